/// A new backend connection reached a listener that is not the tool's: closed before anything
/// was sent, and handled as a refused connect (the backend is ejected, the next one tried).
struct BackendOwnerMismatch: Error {
    let backend: BackendAddress
}
