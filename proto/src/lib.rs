//! wave's gRPC API, package `wave.v1`: the messages, the `Wave` service's client and server, and
//! the encoded file descriptor set that server reflection serves.

#![allow(clippy::large_enum_variant)]

pub mod v1 {
    tonic::include_proto!("wave.v1");
}

/// The encoded `FileDescriptorSet` of `wave/v1/wave.proto`, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/wave_descriptor.bin"));
