import Testing

@testable import KilnBuilds

/// The host's build slots: taken while free, then waited for in order; a waiter cancelled
/// leaves with no slot and takes none from the others.
@Suite struct BuildSlotsTests {
    @Test func slotsAreTakenThenWaitedForInOrder() async throws {
        let slots = BuildSlots(count: 1)
        #expect(await slots.acquire())
        let order = OrderRecorder()
        let first = Task { await slots.acquire() ? await order.add(1) : () }
        while await slots.waiting < 1 { await Task.yield() }
        let second = Task { await slots.acquire() ? await order.add(2) : () }
        while await slots.waiting < 2 { await Task.yield() }
        await slots.release()
        await first.value
        await slots.release()
        await second.value
        #expect(await order.values == [1, 2])
    }

    @Test func aCancelledWaiterLeavesWithoutASlot() async throws {
        let slots = BuildSlots(count: 1)
        #expect(await slots.acquire())
        let waiter = Task { await slots.acquire() }
        while await slots.waiting < 1 { await Task.yield() }
        waiter.cancel()
        #expect(await waiter.value == false)
        #expect(await slots.waiting == 0)
        // The slot it did not take is still the holder's, and free once released.
        await slots.release()
        #expect(await slots.acquire())
    }

    @Test func aTaskCancelledBeforeAskingTakesNothing() async {
        let slots = BuildSlots(count: 1)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await slots.acquire()
        }
        #expect(await task.value == false)
        #expect(await slots.acquire())
    }

    actor OrderRecorder {
        var values: [Int] = []
        func add(_ value: Int) { values.append(value) }
    }
}
