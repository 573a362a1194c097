import Foundation

// The lifecycles' tests write instants as seconds since 1970 and durations as seconds: short,
// and what a reader of their timelines thinks in.
extension Date: @retroactive ExpressibleByIntegerLiteral, @retroactive ExpressibleByFloatLiteral {
    public init(integerLiteral seconds: Int) { self.init(timeIntervalSince1970: Double(seconds)) }
    public init(floatLiteral seconds: Double) { self.init(timeIntervalSince1970: seconds) }
}

extension Duration: @retroactive ExpressibleByIntegerLiteral {
    public init(integerLiteral seconds: Int64) { self = .seconds(seconds) }
}
