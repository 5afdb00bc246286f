//! Errors are values with a message a user can act on; nothing on bad input panics.

/// Everything that can go wrong in LoCo Lab, with a message meant for the user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("dataset error: {0}")]
    Data(String),
    #[error("training diverged: {0}")]
    Diverged(String),
    #[error("checkpoint error: {0}")]
    Checkpoint(String),
    #[error("device error: {0}")]
    Device(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
