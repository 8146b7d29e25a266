//! The small model's tokenizer: byte-level BPE trained on the corpus text with the `tokenizers`
//! crate, then Qwen2.5-Omni's special tokens appended in Qwen's order (so, as in Qwen, they
//! sit at the end of the vocabulary).

use std::collections::BTreeMap;
use std::path::Path;

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{AddedToken, DecoderWrapper, PreTokenizerWrapper, Tokenizer, TokenizerBuilder};

use crate::error::TrainError;

/// Qwen2.5-Omni's special tokens, in id order (`<|endoftext|>` = 151643 … `<|VIDEO|>` = 151656).
pub const SPECIAL_TOKENS: [&str; 14] = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|AUDIO|>",
    "<|audio_bos|>",
    "<|audio_eos|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_bos|>",
    "<|vision_eos|>",
    "<|vision_pad|>",
    "<|IMAGE|>",
    "<|VIDEO|>",
];

/// Trains a byte-level BPE of at most `vocab_size` tokens (special tokens included) on `texts`
/// and writes `out/tokenizer.json`. Returns the special tokens' ids.
pub fn train_tokenizer(
    texts: &[String],
    vocab_size: usize,
    out: &Path,
) -> Result<BTreeMap<&'static str, u32>, TrainError> {
    let alphabet = ByteLevel::alphabet();
    if vocab_size < alphabet.len() + SPECIAL_TOKENS.len() + 1 {
        return Err(TrainError::Argument(format!(
            "vocab size {vocab_size} is below the byte alphabet ({}) plus {} special tokens",
            alphabet.len(),
            SPECIAL_TOKENS.len()
        )));
    }
    let err = |e: tokenizers::Error| TrainError::Tokenizer(e.to_string());
    let mut trainer = BpeTrainerBuilder::new()
        .vocab_size(vocab_size - SPECIAL_TOKENS.len())
        .min_frequency(2)
        .initial_alphabet(alphabet.into_iter().collect())
        .show_progress(false)
        .build();
    let mut builder = TokenizerBuilder::<
        BPE,
        NormalizerWrapper,
        PreTokenizerWrapper,
        PostProcessorWrapper,
        DecoderWrapper,
    >::new()
    .with_model(BPE::default())
    .with_pre_tokenizer(Some(ByteLevel::new(false, false, true).into()))
    .with_decoder(Some(ByteLevelDecoder::default().into()))
    .build()
    .map_err(err)?;
    builder
        .train(&mut trainer, texts.iter().map(String::as_str))
        .map_err(err)?;
    let mut tokenizer = Tokenizer::from(builder);
    tokenizer
        .add_special_tokens(SPECIAL_TOKENS.iter().map(|t| AddedToken::from(*t, true)))
        .map_err(err)?;
    let mut ids = BTreeMap::new();
    for token in SPECIAL_TOKENS {
        let id = tokenizer
            .token_to_id(token)
            .ok_or_else(|| TrainError::Tokenizer(format!("{token} was not added")))?;
        ids.insert(token, id);
    }
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    tokenizer
        .save(out.join("tokenizer.json"), false)
        .map_err(err)?;
    Ok(ids)
}
