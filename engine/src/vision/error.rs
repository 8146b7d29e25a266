//! What can be wrong with the input of a vision forward.

/// Bad input to [`super::VisionTower::forward`]: the patches do not fit the grids they claim to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisionError {
    #[error("no video grids given")]
    NoGrids,
    #[error("grid (t, h, w) = {grid:?}: every side must be positive and h, w multiples of the spatial merge size {merge}")]
    BadGrid { grid: [usize; 3], merge: usize },
    #[error("patch rows have {found} values, the patch embedding expects {expected} (channels × temporal patch × patch²)")]
    PatchWidth { expected: usize, found: usize },
    #[error("the grids describe {expected} patches, the patch tensor has {found} rows")]
    PatchCount { expected: usize, found: usize },
    #[error("embedded patches are {found} wide, the vision blocks take {expected}")]
    EmbeddedWidth { expected: usize, found: usize },
}
