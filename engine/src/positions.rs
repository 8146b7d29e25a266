//! M-RoPE position ids (t, h, w) for one token sequence, as the thinker's `get_rope_index` computes them.
//!
//! * No image/video grid (text, audio only): plain `0..L-1` on all three axes.
//! * Silent video: `<|vision_bos|>` gets p, the video tokens `p+1 + (⌊t·spg·25⌋, row, col)` of the
//!   merged grid, `<|vision_eos|>` the block max + 1, text continues from there.
//! * Audio + video, time-aligned (`use_audio_in_video`, TMRoPE; the default of the embedder):
//!   both bos tokens share p; video ids as above from p+1, audio ids `p+1 + 0..n_audio` (the
//!   BEATs-doubled count); blocks follow the token runs in `[video_j, audio_j]` order; both eos
//!   tokens get (max of the last block) + 1.
//! * Audio + video without `use_audio_in_video` (the reference eval loop): the audio branch is
//!   taken and every position ends up sequential, `0..L-1`.
//!
//! Every new block starts at the max of the previously appended block + 1 (not the global max).

/// Position ids of one sequence on the three M-RoPE axes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MropePositions {
    pub t: Vec<i64>,
    pub h: Vec<i64>,
    pub w: Vec<i64>,
}

impl MropePositions {
    /// `0..len` on all three axes.
    pub fn sequential(len: usize) -> Self {
        let ids: Vec<i64> = (0..len as i64).collect();
        Self {
            t: ids.clone(),
            h: ids.clone(),
            w: ids,
        }
    }

    pub fn len(&self) -> usize {
        self.t.len()
    }

    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }
}

/// Token ids and constants the position computation reads from the config.
#[derive(Debug, Clone)]
pub struct PositionConfig {
    pub image_token_id: u32,
    pub video_token_id: u32,
    pub audio_token_id: u32,
    pub vision_start_token_id: u32,
    pub audio_start_token_id: u32,
    pub spatial_merge_size: usize,
    pub position_id_per_seconds: f32,
    /// BEATs is in use (and not alone): every Whisper token has two `<|AUDIO|>` rows.
    pub audio_doubled: bool,
}

/// One video's patch grid and its seconds per temporal grid step (float32, as forward() gets it).
#[derive(Debug, Clone, Copy)]
pub struct VideoGrid {
    pub thw: [usize; 3],
    pub second_per_grid: f32,
}

/// The media of one sequence, in order of appearance.
#[derive(Debug, Clone, Default)]
pub struct MediaGrids {
    pub images: Vec<[usize; 3]>,
    pub videos: Vec<VideoGrid>,
    /// Whisper tokens per audio (`N_a`, before the BEATs doubling).
    pub audio_tokens: Vec<usize>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot compute position ids: {0}")]
pub struct PositionError(String);

/// The position ids of `ids` (one unpadded sequence).
pub fn rope_positions(
    ids: &[u32],
    cfg: &PositionConfig,
    media: &MediaGrids,
    use_audio_in_video: bool,
) -> Result<MropePositions, PositionError> {
    if media.images.is_empty() && media.videos.is_empty() {
        return Ok(MropePositions::sequential(ids.len()));
    }
    let count = |pred: &dyn Fn(u32) -> bool| ids.iter().filter(|&&id| pred(id)).count();
    // What follows each `<|vision_bos|>` tells images from videos (and, time-aligned, AV from video).
    let after_vision_start: Vec<u32> = ids
        .windows(2)
        .filter(|w| w[0] == cfg.vision_start_token_id)
        .map(|w| w[1])
        .collect();
    let vision_followed_by = |id: u32| after_vision_start.iter().filter(|&&x| x == id).count();
    let audio_nums = count(&|id| id == cfg.audio_start_token_id);
    let image_nums = vision_followed_by(cfg.image_token_id);
    let video_nums = if use_audio_in_video {
        vision_followed_by(cfg.audio_start_token_id)
    } else {
        vision_followed_by(cfg.video_token_id)
    };
    let multimodal_nums = if use_audio_in_video {
        image_nums + audio_nums
    } else {
        image_nums + video_nums + audio_nums
    };

    let mut out = Builder::default();
    let (mut remain_images, mut remain_videos, mut remain_audios) =
        (image_nums, video_nums, audio_nums);
    let (mut image_idx, mut video_idx, mut audio_idx) = (0, 0, 0);
    let mut st = 0usize;
    let absent = ids.len() + 1;
    let find = |id: u32, from: usize, remain: usize| -> Result<usize, PositionError> {
        if remain == 0 || !ids.contains(&id) {
            return Ok(absent);
        }
        ids[from.min(ids.len())..]
            .iter()
            .position(|&x| x == id)
            .map(|i| i + from)
            .ok_or_else(|| PositionError(format!("token {id} expected after index {from}")))
    };
    for _ in 0..multimodal_nums {
        let ed_image = find(cfg.image_token_id, st, remain_images)?;
        let ed_video = find(cfg.video_token_id, st, remain_videos)?;
        let ed_audio = find(cfg.audio_token_id, st, remain_audios)?;
        let min_ed = ed_image.min(ed_video).min(ed_audio);
        if min_ed == absent {
            return Err(PositionError("fewer media tokens than media starts".into()));
        }
        let text_before = |bos_count: usize| {
            min_ed.checked_sub(st + bos_count).ok_or_else(|| {
                PositionError(format!("media token at {min_ed} lacks its start token"))
            })
        };
        if min_ed == ed_audio {
            let text_len = text_before(1)?;
            let audio_len = whisper_count(media, audio_idx)?;
            out.text(text_len);
            out.text(1);
            out.text(audio_len);
            out.text(1);
            st += text_len + 1 + audio_len + 1;
            audio_idx += 1;
            remain_audios -= 1;
        } else if min_ed == ed_image {
            let text_len = text_before(1)?;
            let thw = *media
                .images
                .get(image_idx)
                .ok_or_else(|| PositionError("more images in the tokens than grids".into()))?;
            // Images sit at temporal id 0 (arange(grid_t) * 1 * 25 for one frame).
            let t_index: Vec<i64> = (0..thw[0] as i64)
                .map(|t| t * cfg.position_id_per_seconds as i64)
                .collect();
            out.text(text_len);
            out.text(1);
            let start = out.next;
            out.push(vision_block(start, &t_index, thw, cfg.spatial_merge_size));
            out.text(1);
            st += text_len + 1 + merged_len(thw, cfg.spatial_merge_size) + 1;
            image_idx += 1;
            remain_images -= 1;
        } else if !use_audio_in_video {
            let text_len = text_before(1)?;
            let video = video_at(media, video_idx)?;
            out.text(text_len);
            out.text(1);
            let start = out.next;
            let t_index = video_t_index(video, cfg.position_id_per_seconds);
            out.push(vision_block(
                start,
                &t_index,
                video.thw,
                cfg.spatial_merge_size,
            ));
            out.text(1);
            st += text_len + 1 + merged_len(video.thw, cfg.spatial_merge_size) + 1;
            video_idx += 1;
            remain_videos -= 1;
        } else {
            // `<|vision_bos|><|audio_bos|>` precede the first video token.
            let text_len = text_before(2)?;
            let video = video_at(media, video_idx)?;
            let mut audio_len = whisper_count(media, audio_idx)?;
            if cfg.audio_doubled {
                audio_len *= 2;
            }
            out.text(text_len);
            let bos = out.next;
            out.push(Block::constant(bos, 1));
            out.push(Block::constant(bos, 1));
            let start = out.next;
            let t_index = video_t_index(video, cfg.position_id_per_seconds);
            let video_ids = vision_block(start, &t_index, video.thw, cfg.spatial_merge_size);
            let audio_ids = Block::arange(start, audio_len);
            let (video_runs, audio_runs) = media_runs(ids, cfg.video_token_id, cfg.audio_token_id);
            if video_runs.iter().sum::<usize>() != video_ids.len()
                || audio_runs.iter().sum::<usize>() != audio_ids.len()
            {
                return Err(PositionError(format!(
                    "audio-video tokens ({} video, {} audio) do not match the media ({} video, {} audio)",
                    video_runs.iter().sum::<usize>(),
                    audio_runs.iter().sum::<usize>(),
                    video_ids.len(),
                    audio_ids.len()
                )));
            }
            let (mut v_at, mut a_at) = (0, 0);
            for j in 0..video_runs.len().max(audio_runs.len()) {
                if let Some(&n) = video_runs.get(j) {
                    out.push(video_ids.range(v_at, v_at + n));
                    v_at += n;
                }
                if let Some(&n) = audio_runs.get(j) {
                    out.push(audio_ids.range(a_at, a_at + n));
                    a_at += n;
                }
            }
            let eos = out.next;
            out.push(Block::constant(eos, 1));
            out.push(Block::constant(eos, 1));
            st += text_len + 2 + audio_len + video_ids.len() + 2;
            audio_idx += 1;
            video_idx += 1;
            remain_videos -= 1;
            remain_audios -= 1;
        }
    }
    if st < ids.len() {
        out.text(ids.len() - st);
    }
    let positions = out.positions;
    if positions.len() != ids.len() {
        return Err(PositionError(format!(
            "{} position ids for {} tokens (token layout does not match the media)",
            positions.len(),
            ids.len()
        )));
    }
    Ok(positions)
}

fn whisper_count(media: &MediaGrids, idx: usize) -> Result<usize, PositionError> {
    media
        .audio_tokens
        .get(idx)
        .copied()
        .ok_or_else(|| PositionError("more audio spans in the tokens than audio lengths".into()))
}

fn video_at(media: &MediaGrids, idx: usize) -> Result<VideoGrid, PositionError> {
    media
        .videos
        .get(idx)
        .copied()
        .ok_or_else(|| PositionError("more videos in the tokens than grids".into()))
}

/// `⌊t · spg · 25⌋` in float32, as the reference's `(arange * second_per_grid.float() * 25).long()`.
fn video_t_index(video: VideoGrid, per_second: f32) -> Vec<i64> {
    (0..video.thw[0])
        .map(|t| ((t as f32) * video.second_per_grid * per_second) as i64)
        .collect()
}

fn merged_len(thw: [usize; 3], merge: usize) -> usize {
    thw[0] * (thw[1] / merge) * (thw[2] / merge)
}

/// Ids `start + (t, row, col)` of the merged grid, in row-major (t, row, col) token order.
fn vision_block(start: i64, t_index: &[i64], thw: [usize; 3], merge: usize) -> Block {
    let (gh, gw) = (thw[1] / merge, thw[2] / merge);
    let mut block = Block::default();
    for &t in t_index {
        for row in 0..gh {
            for col in 0..gw {
                block.t.push(start + t);
                block.h.push(start + row as i64);
                block.w.push(start + col as i64);
            }
        }
    }
    block
}

/// Lengths of the consecutive runs of video tokens and of audio tokens (other tokens ignored).
fn media_runs(ids: &[u32], video: u32, audio: u32) -> (Vec<usize>, Vec<usize>) {
    let (mut video_runs, mut audio_runs) = (Vec::new(), Vec::new());
    let mut current: Option<(u32, usize)> = None;
    let mut close = |run: Option<(u32, usize)>| {
        if let Some((id, n)) = run {
            if id == video {
                video_runs.push(n);
            } else {
                audio_runs.push(n);
            }
        }
    };
    for &id in ids.iter().filter(|&&id| id == video || id == audio) {
        current = match current {
            Some((cur, n)) if cur == id => Some((cur, n + 1)),
            other => {
                close(other);
                Some((id, 1))
            }
        };
    }
    close(current);
    (video_runs, audio_runs)
}

/// A contiguous group of position ids, appended as one unit.
#[derive(Default)]
struct Block {
    t: Vec<i64>,
    h: Vec<i64>,
    w: Vec<i64>,
}

impl Block {
    fn arange(start: i64, len: usize) -> Self {
        let ids: Vec<i64> = (start..start + len as i64).collect();
        Self {
            t: ids.clone(),
            h: ids.clone(),
            w: ids,
        }
    }

    fn constant(value: i64, len: usize) -> Self {
        Self {
            t: vec![value; len],
            h: vec![value; len],
            w: vec![value; len],
        }
    }

    fn range(&self, from: usize, to: usize) -> Self {
        Self {
            t: self.t[from..to].to_vec(),
            h: self.h[from..to].to_vec(),
            w: self.w[from..to].to_vec(),
        }
    }

    fn len(&self) -> usize {
        self.t.len()
    }

    fn max(&self) -> Option<i64> {
        self.t.iter().chain(&self.h).chain(&self.w).copied().max()
    }
}

/// Accumulates blocks; `next` is the max of the last appended block + 1.
struct Builder {
    positions: MropePositions,
    next: i64,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            positions: MropePositions::sequential(0),
            next: 0,
        }
    }
}

impl Builder {
    fn push(&mut self, block: Block) {
        if let Some(max) = block.max() {
            self.next = max + 1;
        }
        self.positions.t.extend(block.t);
        self.positions.h.extend(block.h);
        self.positions.w.extend(block.w);
    }

    /// `len` sequential ids (text, bos/eos, plain audio); nothing for an empty span.
    fn text(&mut self, len: usize) {
        if len > 0 {
            self.push(Block::arange(self.next, len));
        }
    }
}
