extension ProxyMetricsSnapshot {
    /// The snapshot in Prometheus' text exposition format (version 0.0.4). Written here rather
    /// than through a registry: the counters are summed from the loops at scrape time, and a
    /// registry's histogram takes single observations, not buckets already counted.
    public var prometheusText: String {
        var text = PrometheusText()
        let tools = requests.keys.sorted()
        text.family("kiln_proxy_requests_total", .counter, "Requests answered, by tool and status class.")
        for tool in tools {
            guard let counts = requests[tool] else { continue }
            for statusClass in StatusClass.allCases where counts.count(statusClass) > 0 {
                text.sample("kiln_proxy_requests_total", [("tool", tool), ("status_class", statusClass.label)], counts.count(statusClass))
            }
        }
        text.family("kiln_proxy_request_duration_seconds", .histogram, "From a request's head to the end of its response, by tool.")
        for tool in tools {
            guard let counts = requests[tool] else { continue }
            var cumulative = 0
            for (index, count) in counts.durationBuckets.enumerated() {
                cumulative += count
                let bound = index < RequestDurationBuckets.upperBoundsNanoseconds.count
                    ? Self.seconds(RequestDurationBuckets.upperBoundsNanoseconds[index]) : "+Inf"
                text.sample("kiln_proxy_request_duration_seconds_bucket", [("tool", tool), ("le", bound)], cumulative)
            }
            text.sample("kiln_proxy_request_duration_seconds_sum", [("tool", tool)], Self.seconds(counts.durationNanoseconds))
            text.sample("kiln_proxy_request_duration_seconds_count", [("tool", tool)], cumulative)
        }
        text.family("kiln_proxy_upstream_connect_failures_total", .counter, "Connections to a backend refused or failed (timeouts apart).")
        text.sample("kiln_proxy_upstream_connect_failures_total", [], upstreamConnectFailures)
        text.family("kiln_proxy_upstream_connect_timeouts_total", .counter, "Connections to a backend that timed out.")
        text.sample("kiln_proxy_upstream_connect_timeouts_total", [], upstreamConnectTimeouts)
        text.family("kiln_proxy_upstream_response_timeouts_total", .counter, "Exchanges whose backend did not answer in time.")
        text.sample("kiln_proxy_upstream_response_timeouts_total", [], upstreamResponseTimeouts)
        text.family("kiln_proxy_refused_total", .counter, "Clients turned away by a rate limit, a connection cap or a pipelining flood, by reason.")
        for reason in ProxyRefusal.allCases {
            text.sample("kiln_proxy_refused_total", [("reason", reason.label)], refusals(reason))
        }
        text.family("kiln_proxy_open_connections", .gauge, "Client connections open now.")
        text.sample("kiln_proxy_open_connections", [], openConnections)
        text.family("kiln_proxy_route_table_version", .gauge, "Changes applied to the route table since the proxy started.")
        text.sample("kiln_proxy_route_table_version", [], String(routeTableVersion))
        text.family("kiln_proxy_route_table_age_seconds", .gauge, "Seconds since the route table last changed.")
        let age = routeTableAge.components
        text.sample("kiln_proxy_route_table_age_seconds", [], String(Double(age.seconds) + Double(age.attoseconds) / 1e18))
        return text.output
    }

    private static func seconds(_ nanoseconds: UInt64) -> String { String(Double(nanoseconds) / 1e9) }
}

/// Lines of the exposition format: a family's HELP and TYPE, then its samples.
struct PrometheusText {
    enum Kind: String { case counter, gauge, histogram }

    private(set) var output = ""

    mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        output += "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Int) {
        sample(name, labels, String(value))
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
        output += name
        if !labels.isEmpty {
            output += "{" + labels.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",") + "}"
        }
        output += " \(value)\n"
    }

    static func escaped(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
