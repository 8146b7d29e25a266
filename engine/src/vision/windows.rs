//! Which patches attend to which: the window permutation and the segment boundaries.
//!
//! Merged tokens (2×2 patches) are regrouped so each attention window — a square of
//! `window_size / patch / merge` merged tokens per side, cut short at the frame's right and
//! bottom edges — is contiguous. Window blocks attend inside these windows; full-attention blocks
//! attend inside one frame (one temporal grid step) of one video.

/// Attention layout of one forward over one or more videos, in patch units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowLayout {
    /// For each merged token in window order, its index in the processor's order (the
    /// reference's `window_index`; its argsort restores the processor's order).
    pub window_index: Vec<usize>,
    /// Window boundaries in patches, starting at 0, strictly increasing (the reference's
    /// `cu_window_seqlens` after `unique_consecutive`).
    pub cu_window_seqlens: Vec<usize>,
    /// Frame boundaries in patches: `h·w` patches per temporal step of each video (the
    /// reference's `cu_seqlens`, used by the full-attention blocks).
    pub cu_frame_seqlens: Vec<usize>,
}

impl WindowLayout {
    /// `grids` are (t, h, w) in patches; h and w must be multiples of `merge`, and
    /// `window_side` (merged tokens per window side) must be positive.
    pub fn new(grids: &[[usize; 3]], merge: usize, window_side: usize) -> Self {
        let merge_unit = merge * merge;
        let mut window_index = Vec::new();
        let mut cu_window_seqlens = vec![0];
        let mut cu_frame_seqlens = vec![0];
        let mut offset = 0;
        for &[t, h, w] in grids {
            let (rows, cols) = (h / merge, w / merge);
            // The reference pads up to a whole number of windows plus one extra window when the
            // side is already a multiple; the extra windows are empty and vanish below.
            let windows_down = rows / window_side + 1;
            let windows_across = cols / window_side + 1;
            for frame in 0..t {
                let frame_start = offset + frame * rows * cols;
                for wy in 0..windows_down {
                    for wx in 0..windows_across {
                        let mut tokens = 0;
                        for y in wy * window_side..((wy + 1) * window_side).min(rows) {
                            for x in wx * window_side..((wx + 1) * window_side).min(cols) {
                                window_index.push(frame_start + y * cols + x);
                                tokens += 1;
                            }
                        }
                        // Empty windows would repeat the previous boundary: skip them, as
                        // `unique_consecutive` does.
                        if tokens > 0 {
                            let last = *cu_window_seqlens.last().unwrap_or(&0);
                            cu_window_seqlens.push(last + tokens * merge_unit);
                        }
                    }
                }
                let last = *cu_frame_seqlens.last().unwrap_or(&0);
                cu_frame_seqlens.push(last + h * w);
            }
            offset += t * rows * cols;
        }
        Self {
            window_index,
            cu_window_seqlens,
            cu_frame_seqlens,
        }
    }

    /// Inverse of `window_index`: for each merged token in processor order, its window-order row.
    pub fn inverse_index(&self) -> Vec<usize> {
        let mut inverse = vec![0; self.window_index.len()];
        for (window_pos, &original) in self.window_index.iter().enumerate() {
            inverse[original] = window_pos;
        }
        inverse
    }
}

/// Segment lengths from cumulative boundaries.
pub(crate) fn lengths(cu: &[usize]) -> Vec<usize> {
    cu.windows(2).map(|pair| pair[1] - pair[0]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_multiple_sides_get_no_empty_windows() {
        // 8×8 merged tokens, windows of 4×4: the reference pads a whole extra window row and
        // column, whose zero lengths must disappear.
        let layout = WindowLayout::new(&[[1, 16, 16]], 2, 4);
        assert_eq!(layout.cu_window_seqlens, vec![0, 64, 128, 192, 256]);
        assert_eq!(layout.cu_frame_seqlens, vec![0, 256]);
        assert_eq!(&layout.window_index[..5], &[0, 1, 2, 3, 8]);
        assert_eq!(layout.window_index[16], 4);
    }

    #[test]
    fn ragged_edges_and_several_videos() {
        // Video 0: 2 frames of 3×5 merged tokens, windows 2×2 -> per frame 2×3 windows of
        // sizes 4,4,2,2,2,1. Video 1: one frame of 1×1 merged token.
        let layout = WindowLayout::new(&[[2, 6, 10], [1, 2, 2]], 2, 2);
        let per_frame = [4, 4, 2, 2, 2, 1];
        let mut expected = vec![0];
        for len in per_frame.iter().chain(per_frame.iter()).chain([1].iter()) {
            expected.push(expected.last().unwrap() + len * 4);
        }
        assert_eq!(layout.cu_window_seqlens, expected);
        assert_eq!(layout.cu_frame_seqlens, vec![0, 60, 120, 124]);
        assert_eq!(&layout.window_index[..6], &[0, 1, 5, 6, 2, 3]);
        assert_eq!(*layout.window_index.last().unwrap(), 30);
        let inverse = layout.inverse_index();
        for (pos, &orig) in layout.window_index.iter().enumerate() {
            assert_eq!(inverse[orig], pos);
        }
    }
}
