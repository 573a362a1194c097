import CPCRE2

/// A route pattern compiled by PCRE2 once, when the route table changes: JIT-compiled where the
/// platform has a JIT, PCRE2's interpreter otherwise. Owns the compiled code and frees it.
final class CompiledPattern: @unchecked Sendable {
    // PCRE2 documents compiled code (JIT included) as read-only after compilation and safe to
    // share between threads; what a match writes is in each thread's `PatternMatchScratch`.
    private let code: OpaquePointer
    /// Whether the JIT compiled it (else matches run on the interpreter).
    let isJITCompiled: Bool

    /// Compiles `source` as UTF-8 (a path is matched code point by code point, as ngx.re does with
    /// its `u` option); `\C`, which could split a code point, is refused. `jit: false` keeps to
    /// the interpreter, as on a platform without a JIT.
    init(_ source: String, jit: Bool = true) throws(KilnError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let options = UInt32(PCRE2_UTF) | UInt32(PCRE2_NEVER_BACKSLASH_C)
        let compiled = Self.withBytes(of: source) { bytes in
            pcre2_compile_8(bytes.baseAddress, bytes.count, options, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            throw KilnError(
                .invalidRoute,
                "route pattern '\(source)' is not a valid regular expression: \(Self.message(for: errorCode)) at offset \(errorOffset)",
                context: ["field": "pattern", "pattern": source])
        }
        code = compiled
        // A platform without a JIT (or one that refuses executable memory) answers an error:
        // the interpreter, bounded by the same limits, does the matching then.
        isJITCompiled = jit && pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
    }

    deinit {
        pcre2_code_free_8(code)
    }

    /// Searches `subject` for the pattern, with the calling thread's match data and limits.
    func match(_ subject: Substring, using scratch: PatternMatchScratch) -> RoutePatternMatch {
        // A Swift string is valid UTF-8: PCRE2 need not check it again on every match.
        let result = Self.withBytes(of: subject) { bytes in
            pcre2_match_8(code, bytes.baseAddress, bytes.count, 0, UInt32(PCRE2_NO_UTF_CHECK), scratch.matchData, scratch.context)
        }
        if result >= 0 { return .matched }
        if result == PCRE2_ERROR_NOMATCH { return .unmatched }
        // The limits (match, depth, heap, JIT stack) and running out of memory alike: no answer.
        return .abandoned
    }

    /// PCRE2's message for a compile error.
    private static func message(for errorCode: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer { buffer in
            pcre2_get_error_message_8(errorCode, buffer.baseAddress, buffer.count)
        }
        guard length > 0 else { return "error \(errorCode)" }
        return String(decoding: buffer.prefix(Int(length)), as: UTF8.self)
    }

    /// The UTF-8 bytes of `text` in place (a copy only when they are not contiguous); never a
    /// nil base address, which PCRE2 refuses even for an empty subject.
    private static func withBytes<Text: StringProtocol, Result>(
        of text: Text, _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        if let result = text.utf8.withContiguousStorageIfAvailable({ bytes in
            bytes.baseAddress == nil ? nil : body(bytes)
        }), let result {
            return result
        }
        var copy = [UInt8](text.utf8)
        copy.append(0)
        return copy.withUnsafeBufferPointer { bytes in body(UnsafeBufferPointer(rebasing: bytes.dropLast())) }
    }
}
