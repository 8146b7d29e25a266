//! wave-demo: hum-to-find-video, the `wave demo` app.
//!
//! * [`library`]: a synthetic demo library (`wave-synth`): its audio-video clips are the videos
//!   to find, its hum recordings sample queries; thumbnails by ffmpeg; generated once and reused.
//! * [`ingest`]: the library's videos into a store with wave-ingest's pipeline.
//! * [`recording`]: a browser recording (webm/opus) or an uploaded file, decoded and checked
//!   (silence, too short, too long, undecodable) with messages the page shows as they are.
//! * [`gateway`]: the web page and an HTTP/JSON gateway that talks to the engine over wave's
//!   own gRPC API.
//! * [`server`]: the gRPC API and the page with its gateway on one port, one server.

pub mod error;
pub mod gateway;
pub mod ingest;
pub mod library;
pub mod recording;
pub mod server;
pub mod thumbnail;
pub mod wav;

pub use error::DemoError;
pub use gateway::{router, GatewayConfig};
pub use library::{DemoLibrary, DemoPaths, DEFAULT_COUNT, DEFAULT_SEED};
pub use recording::{Recording, RecordingError};
pub use server::DemoServerConfig;
