//! wave-proto (see its issue)
