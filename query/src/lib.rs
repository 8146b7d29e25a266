//! wave-query (see its issue)
