// RESP client: see the helper's files.
