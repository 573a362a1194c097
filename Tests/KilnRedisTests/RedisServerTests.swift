import Testing

/// Every test that runs a real redis-server, one at a time: on a small machine, tests running
/// beside each other (each starting servers and redis-cli processes) would make the feed's
/// measured push latency that of a starved CPU, not the feed's.
@Suite(.serialized, .timeLimit(.minutes(2))) struct RedisServerTests {}
