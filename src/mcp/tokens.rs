//! Counting cl100k tokens exactly and cheaply, for the answer bound.
//!
//! The count is bpe-openai's (equal to tiktoken's): the text is split into
//! the pieces of cl100k's pre-tokenizer pattern and each piece is encoded
//! on its own. Two things make it ~5 times cheaper than
//! `cl100k_base().count`: pieces of ASCII and Latin-1 text are split by
//! hand, exactly as the pattern splits them (the regex decides every piece
//! whose decision needs a character above U+00FF), and each distinct piece
//! is encoded once per thread, up to a bound (JSON repeats its keys and
//! punctuation, and one API its answers' shapes).
//!
//! Owns: counting. Must not touch: shaping (what is cut, where, and the
//! notes; see `answer.rs`).

use rustc_hash::FxHashMap;
use std::cell::RefCell;

/// cl100k (bpe-openai: the same counts as tiktoken; its tables load on first use).
pub(super) fn cl100k() -> &'static bpe_openai::Tokenizer {
    bpe_openai::cl100k_base()
}

/// The cl100k tokens of `text`, exactly, with the pieces this thread has
/// already encoded remembered (answers of one API repeat their keys, ids and
/// punctuation from call to call).
pub(super) fn count(text: &str) -> usize {
    thread_local! {
        static COUNTER: RefCell<TokenCounter> = RefCell::default();
    }
    COUNTER.with_borrow_mut(|counter| counter.count(text))
}

/// How many pieces of each kind a counter remembers at most: both tables
/// full take ~1 MiB (of a thread's counter; JSON answers of one API have a
/// few thousand distinct pieces).
const MAX_REMEMBERED: usize = 8_192;
/// Longer pieces are encoded each time (they are rare, and memory must stay bounded).
const MAX_REMEMBERED_LENGTH: usize = 24;

/// Counts cl100k tokens, remembering the count of each distinct piece it has
/// encoded, up to [`MAX_REMEMBERED`] (then it starts afresh).
#[derive(Default)]
pub(super) struct TokenCounter {
    /// Pieces of at most 7 bytes (nearly all of JSON's), keyed by [`short_key`]: cheaper to hash and compare.
    tokens_of_short_piece: FxHashMap<u64, usize>,
    tokens_of_long_piece: FxHashMap<Box<[u8]>, usize>,
}

impl TokenCounter {
    /// The cl100k tokens of `text`, exactly.
    pub(super) fn count(&mut self, text: &str) -> usize {
        let mut tokens = 0;
        let mut start = 0;
        while start < text.len() {
            let end = piece_end(text, start);
            tokens += self.piece_tokens(text.as_bytes(), start, end);
            start = end;
        }
        tokens
    }

    /// The tokens of the piece `text[start..end]`.
    fn piece_tokens(&mut self, text: &[u8], start: usize, end: usize) -> usize {
        // Every single byte is a cl100k token.
        if end - start == 1 {
            return 1;
        }
        let piece = &text[start..end];
        if let Some(key) = short_key(text, start, end) {
            match self.tokens_of_short_piece.get(&key) {
                Some(&tokens) => tokens,
                None => encode_and_remember(&mut self.tokens_of_short_piece, key, piece),
            }
        } else if piece.len() <= MAX_REMEMBERED_LENGTH {
            match self.tokens_of_long_piece.get(piece) {
                Some(&tokens) => tokens,
                None => encode_and_remember(&mut self.tokens_of_long_piece, piece.into(), piece),
            }
        } else {
            cl100k().bpe.count(piece)
        }
    }

    #[cfg(test)]
    fn pieces_remembered(&self) -> usize {
        self.tokens_of_short_piece.len() + self.tokens_of_long_piece.len()
    }
}

/// Encodes `piece` and keeps its tokens under `key`, forgetting all else
/// first if `memo` is full. Out of line: the rare path must not make the
/// common one (a remembered piece) a call.
#[cold]
#[inline(never)]
fn encode_and_remember<K: std::hash::Hash + Eq>(memo: &mut FxHashMap<K, usize>, key: K, piece: &[u8]) -> usize {
    let tokens = cl100k().bpe.count(piece);
    if memo.len() >= MAX_REMEMBERED {
        memo.clear();
    }
    memo.insert(key, tokens);
    tokens
}

/// The piece `text[start..end]`, if at most 7 bytes, as one number: its
/// bytes, and its length in the top byte (so trailing NUL bytes stay apart).
fn short_key(text: &[u8], start: usize, end: usize) -> Option<u64> {
    let length = end - start;
    if length > 7 {
        return None;
    }
    // One load of the eight bytes from `start`, where the text has them.
    let bytes = match text.get(start..start + 8) {
        Some(eight) => u64::from_le_bytes(eight.try_into().expect("eight bytes")),
        None => text[start..end].iter().rev().fold(0, |key, &byte| key << 8 | u64::from(byte)),
    };
    Some(bytes & ((1 << (8 * length)) - 1) | (length as u64) << 56)
}

/// The pieces cl100k's pre-tokenizer splits `text` into: the same as
/// `cl100k().split(text)`.
#[cfg(test)]
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    std::iter::from_fn(move || {
        (start < text.len()).then(|| {
            let end = piece_end(text, start);
            let piece = &text[start..end];
            start = end;
            piece
        })
    })
}

/// Where the piece that starts at `start` (a piece boundary) ends.
pub(super) fn piece_end(text: &str, start: usize) -> usize {
    match ascii_piece_end(text.as_bytes(), start) {
        Some(end) => end,
        // The regex on the rest of the text, as bpe-openai's own split
        // matches it there (anchored at `start`, the rest as haystack).
        None => start + cl100k().split(&text[start..]).next().expect("a non-empty text has a first piece").len(),
    }
}

/// What the pattern needs to know of one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// `A-Z a-z`: `\p{L}`.
    Letter,
    /// `0-9`: `\p{N}`.
    Digit,
    /// `\r \n`.
    Newline,
    /// ` `, the one blank the punctuation alternative may start with.
    Space,
    /// `\t`, vertical tab, form feed: the rest of ASCII's `\s`.
    Blank,
    /// Any other ASCII byte: `[^\s\p{L}\p{N}]`.
    Other,
    /// `0xC2` or `0xC3`, the first byte of U+0080..=U+00FF: German's and the
    /// other Western languages' letters, `«»` and the like; see [`Latin1`].
    Latin1,
    /// Past the end of the text.
    End,
    /// Any other non-ASCII character: only the regex knows its classes.
    NonAscii,
}

/// The class of every byte value, looked up once per byte read.
const CLASSES: [Class; 256] = {
    let mut classes = [Class::Other; 256];
    let mut byte = 0;
    while byte < 256 {
        classes[byte] = match byte as u8 {
            b'a'..=b'z' | b'A'..=b'Z' => Class::Letter,
            b'0'..=b'9' => Class::Digit,
            b'\r' | b'\n' => Class::Newline,
            b' ' => Class::Space,
            b'\t' | 0x0B | 0x0C => Class::Blank,
            0xC2 | 0xC3 => Class::Latin1,
            0x80.. => Class::NonAscii,
            _ => Class::Other,
        };
        byte += 1;
    }
    classes
};

fn class(bytes: &[u8], at: usize) -> Class {
    match bytes.get(at) {
        Some(&byte) => CLASSES[byte as usize],
        None => Class::End,
    }
}

/// What a two-byte character of U+0080..=U+00FF is to the pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Latin1 {
    /// `\p{L}`: `À-ÿ` but `×` and `÷`, and `ª µ º`.
    Letter,
    /// `\p{N}`: `² ³ ¹ ¼ ½ ¾`.
    Number,
    /// `\s`: U+0085 and the no-break space.
    Space,
    /// `[^\s\p{L}\p{N}]`: `« » ¿ × ÷ ©`, controls and the rest.
    Other,
}

/// The character at `at`, of class [`Class::Latin1`].
fn latin1(bytes: &[u8], at: usize) -> Latin1 {
    match (bytes[at], bytes.get(at + 1)) {
        (0xC3, Some(0x97 | 0xB7)) => Latin1::Other,
        (0xC3, _) => Latin1::Letter,
        (_, Some(0xAA | 0xB5 | 0xBA)) => Latin1::Letter,
        (_, Some(0xB2 | 0xB3 | 0xB9 | 0xBC..=0xBE)) => Latin1::Number,
        (_, Some(0x85 | 0xA0)) => Latin1::Space,
        _ => Latin1::Other,
    }
}

/// The class and length of the character at `at`, a Latin-1 letter or
/// other one as [`Class::Letter`] or [`Class::Other`], its numbers and
/// blanks left to the regex.
fn character(bytes: &[u8], at: usize) -> (Class, usize) {
    match class(bytes, at) {
        Class::Latin1 => match latin1(bytes, at) {
            Latin1::Letter => (Class::Letter, 2),
            Latin1::Other => (Class::Other, 2),
            Latin1::Number | Latin1::Space => (Class::NonAscii, 2),
        },
        class => (class, 1),
    }
}

/// Where the piece starting at `start` ends, by the pattern
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// (leftmost-first: the first alternative that matches wins, each as long as
/// it can be), or `None` if deciding it means knowing a character above
/// U+00FF, or a number or blank of Latin-1.
fn ascii_piece_end(bytes: &[u8], start: usize) -> Option<usize> {
    use Class::*;
    let (first, first_len) = character(bytes, start);
    match first {
        NonAscii | End | Latin1 => None,
        Letter => letters_end(bytes, start),
        Digit => {
            let mut end = start + 1;
            while end < start + 3 {
                match class(bytes, end) {
                    Digit => end += 1,
                    NonAscii => return None,
                    Latin1 if latin1(bytes, end) == self::Latin1::Number => return None,
                    _ => break,
                }
            }
            Some(end)
        }
        Other | Space | Blank => {
            let (second, _) = character(bytes, start + first_len);
            if second == NonAscii {
                return None;
            }
            if bytes[start] == b'\'' && second == Letter {
                // No character but these ASCII letters folds to s, t, r, e, v, m, l or d.
                match bytes[start + 1].to_ascii_lowercase() {
                    b's' | b't' | b'm' | b'd' => return Some(start + 2),
                    letter @ (b'r' | b'v' | b'l') => {
                        let wanted = if letter == b'l' { b'l' } else { b'e' };
                        match class(bytes, start + 2) {
                            NonAscii => return None,
                            Letter if bytes[start + 2].to_ascii_lowercase() == wanted => return Some(start + 3),
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            match second {
                Letter => letters_end(bytes, start + first_len),
                _ if first == Other => punctuation_end(bytes, start),
                Other if first == Space => punctuation_end(bytes, start + 1),
                _ => whitespace_end(bytes, start),
            }
        }
        Newline => whitespace_end(bytes, start),
    }
}

/// `\p{L}+` from `from`.
fn letters_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut end = from;
    loop {
        match class(bytes, end) {
            Class::Letter => end += 1,
            Class::Latin1 if latin1(bytes, end) == Latin1::Letter => end += 2,
            Class::NonAscii => return None,
            // Past the letters, Latin-1's other characters included.
            _ => return Some(end),
        }
    }
}

/// `[^\s\p{L}\p{N}]+[\r\n]*` from `from`.
fn punctuation_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut end = from;
    loop {
        match class(bytes, end) {
            Class::Other => end += 1,
            Class::Latin1 if latin1(bytes, end) == Latin1::Other => end += 2,
            Class::NonAscii => return None,
            _ => break,
        }
    }
    // A non-ASCII character is never `\r` or `\n`: this part needs no regex.
    while class(bytes, end) == Class::Newline {
        end += 1;
    }
    Some(end)
}

/// `\s*[\r\n]+|\s+(?!\S)|\s+` from `start`, which is a blank or a newline.
fn whitespace_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut end = start;
    let mut last_newline = None;
    loop {
        match class(bytes, end) {
            Class::Space | Class::Blank => end += 1,
            Class::Newline => {
                last_newline = Some(end);
                end += 1;
            }
            Class::NonAscii => return None,
            Class::Latin1 if latin1(bytes, end) == Latin1::Space => return None,
            _ => break,
        }
    }
    Some(match last_newline {
        // `\s*` gives back what follows the last newline.
        Some(newline) => newline + 1,
        None if end == bytes.len() => end,
        // `\s+(?!\S)` leaves the last blank to the piece after it.
        None if end - start >= 2 => end - 1,
        None => end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Texts where a hand split could go wrong: every alternative of the
    /// pattern, at its edges, next to non-ASCII characters of each class.
    const AWKWARD: &[&str] = &[
        "",
        "a",
        " ",
        "  spaces\t\ttabs\r\n\n\nnewlines   ",
        "Ärger über Öl 🎉🎉 \u{2028} 中文 العربية",
        "<|endoftext|> is text here",
        "1234567890 3.14159 -0 1e3 ''s 've 'LL",
        "it's 'S 'Re 'rE 'vE 'll 'Ll 'd 'M 't 'x 'r 'v 'l '",
        "'ſ 'K 're\u{301} 'r\u{e9} 'l\u{131}",
        "  \n  x \n\n y\t\n\tz \r\n\r\n",
        " \u{a0}x \u{3000}\u{3000}y \u{85}z\u{2028}\n",
        "12\u{663}4 1\u{2460}2 ①②③④ Ⅻ 99\u{ff19}",
        "a\u{301}b e\u{301}\u{302}  \u{301}x",
        "Größe × 2 ÷ 3 'é 'rÉ 're 'ÿ 'llé ÄÖÜäöüß àé ª µ º ¿ À\u{bf}",
        "»Yoga«,\"«» x² 1²3 12³ ½½ ¾x x\u{a0}\u{a0}y \u{85}\n «\n»\r\n 'ª '»",
        "{\"id\":\"635003\",\"name\":\"Yoga für Anfänger\",\"url\":\"https:\\/\\/cdn.example\\/N0000001.png\"}",
        "\u{0}\u{1}\u{1f}\u{7f} \u{b}\u{c} \u{1c}\u{1d}\u{1e}x",
        "   ",
        "\n",
        "x  ",
        "!!!\n\n\r?? ...\n ,,\r\nword",
    ];

    /// The fragments generated texts are made of.
    const FRAGMENTS: &[&str] = &[
        "a", "Z", "word", "JSON", "s", "S", "t", "re", "RE", "ve", "m", "ll", "LL", "d", "'", "\"", "0", "7", "123", "4567", " ", "  ",
        "\t", "\n", "\r", "\r\n", "\u{b}", "\u{c}", "{", "}", "[", "]", ":", ",", "\":\"", "\",\"", ".", "-", "_", "\\/", "\\u00fc", "ü",
        "ſ", "K", "\u{a0}", "\u{85}", "é", "Ä", "ÿ", "×", "÷", "ª", "µ", "º", "²", "¹", "½", "«", "»", "¿", "\u{ad}", "\u{80}", "\u{9f}",
        "\u{c0}", "\u{bf}", "Ā", "\u{2028}", "\u{3000}", "中文", "\u{663}", "①", "Ⅻ", "\u{301}", "🎉", "ß", "İ", "\u{0}", "\u{7f}",
        "\u{1f}",
    ];

    fn generated(rng: &mut impl Rng) -> String {
        let fragments = rng.random_range(0..40);
        (0..fragments).map(|_| FRAGMENTS[rng.random_range(0..FRAGMENTS.len())]).collect()
    }

    /// The raw golden files and the answer texts inside them.
    fn golden_texts() -> Vec<String> {
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let mut texts = Vec::new();
        for entry in std::fs::read_dir(golden).unwrap() {
            let raw = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let message: serde_json::Value = serde_json::from_str(&raw).unwrap();
            if let Some(content) = message["result"]["content"].as_array() {
                texts.extend(content.iter().filter_map(|part| part["text"].as_str().map(String::from)));
            }
            texts.push(raw);
        }
        assert!(texts.len() > 20, "the golden answers are there");
        texts
    }

    fn assert_split_and_count_are_cl100ks(counter: &mut TokenCounter, text: &str) {
        let ours: Vec<&str> = pieces(text).collect();
        let theirs: Vec<&str> = cl100k().split(text).collect();
        assert_eq!(ours, theirs, "{text:?}");
        let tiktoken = tiktoken_rs::cl100k_base_singleton().encode_ordinary(text).len();
        assert_eq!(counter.count(text), tiktoken, "{text:?}");
    }

    #[test]
    fn pieces_and_counts_are_cl100ks_on_every_golden_answer_and_awkward_text() {
        let mut counter = TokenCounter::default();
        for text in golden_texts().iter().map(String::as_str).chain(AWKWARD.iter().copied()) {
            assert_split_and_count_are_cl100ks(&mut counter, text);
        }
    }

    #[test]
    fn pieces_and_counts_are_cl100ks_on_generated_texts() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        let mut counter = TokenCounter::default();
        for round in 0..20_000 {
            // A fresh counter now and then, so first encodings are checked too, not only remembered ones.
            if round % 500 == 0 {
                counter = TokenCounter::default();
            }
            assert_split_and_count_are_cl100ks(&mut counter, &generated(&mut rng));
        }
    }

    #[test]
    fn the_hand_split_decides_ascii_and_latin1_and_leaves_the_rest_to_the_regex() {
        let text = br#"{"name":"Yoga f"#;
        assert_eq!(ascii_piece_end(text, 0), Some(2), "{{\" is one piece");
        assert_eq!(ascii_piece_end(" für".as_bytes(), 0), Some(5), "ü is a letter, decided by hand");
        assert_eq!(ascii_piece_end("x×2".as_bytes(), 0), Some(1), "× is not");
        assert_eq!(ascii_piece_end(" fār".as_bytes(), 0), None, "whether the word goes on past ā is the regex's question");
        assert_eq!(ascii_piece_end(b"'s\xc3\xbc", 0), Some(2), "a contraction is decided before what follows");
        assert_eq!(ascii_piece_end(b"   x", 0), Some(2), "the last blank goes with the word");
    }

    #[test]
    fn a_counter_remembers_pieces_and_counts_a_text_again_the_same() {
        let text =
            serde_json::to_string(&serde_json::json!({"list": vec![serde_json::json!({"id": "P1", "amount": "49.00"}); 100]})).unwrap();
        let mut counter = TokenCounter::default();
        let first = counter.count(&text);
        let remembered = counter.pieces_remembered();
        assert!(remembered > 0 && remembered < 20, "JSON repeats its pieces: {remembered}");
        assert_eq!(counter.count(&text), first);
        assert_eq!(first, cl100k().count(text.as_str()));
        assert_eq!(count(&text), first, "the thread's counter, twice");
        assert_eq!(count(&text), first);
    }

    #[test]
    fn a_short_key_is_the_pieces_bytes_and_length_wherever_it_is_read() {
        assert_ne!(short_key(b"ab\0", 0, 2), short_key(b"ab\0", 0, 3), "a trailing NUL is a different piece");
        assert_eq!(short_key(b"xab", 1, 3), short_key(b"ab------", 0, 2), "read at the end or from a longer text");
        assert_ne!(short_key(b"abcdefg-", 0, 7), short_key(b"abcdefh-", 0, 7));
        assert_eq!(short_key(b"abcdefgh", 0, 8), None, "eight bytes are a long piece");
    }

    #[test]
    fn a_counter_stays_bounded_and_exact_past_its_bound() {
        // More distinct short pieces (" abc") and long ones than it keeps, and longer ones it never keeps.
        let words: Vec<String> = (0..3 * MAX_REMEMBERED)
            .map(|i| {
                let short: String = [i % 26, i / 26 % 26, i / 676 % 26].iter().map(|&l| char::from(b'a' + l as u8)).collect();
                format!(" {short} {}{short}", "q".repeat(8 + i % 30))
            })
            .collect();
        let text = words.concat();
        let mut counter = TokenCounter::default();
        assert_eq!(counter.count(&text), cl100k().count(text.as_str()));
        assert!(counter.tokens_of_short_piece.len() <= MAX_REMEMBERED);
        assert!(counter.tokens_of_long_piece.len() <= MAX_REMEMBERED);
        assert!(counter.tokens_of_long_piece.keys().all(|piece| piece.len() <= MAX_REMEMBERED_LENGTH));
        assert_eq!(counter.count(&text), cl100k().count(text.as_str()), "after forgetting");
    }
}
