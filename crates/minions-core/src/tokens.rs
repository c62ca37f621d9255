//! The free token approximation. Exact counts (which need a tokenizer's
//! vocabulary) live in the `minions-tokens` crate, so that crates which only
//! need an estimate do not compile or load one.

/// A cheap token estimate: about four characters a token, which holds for
/// English prose with OpenAI and Llama tokenizers. Costs one pass over the
/// text and no allocation.
pub fn approx_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_characters_a_token() {
        assert_eq!(approx_tokens(""), 0);
        assert_eq!(approx_tokens("abcd"), 1);
        assert_eq!(approx_tokens("abcde"), 2);
        assert_eq!(approx_tokens("éééé"), 1, "characters, not bytes");
    }
}
