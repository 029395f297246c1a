//! The template's tokens, with the whitespace control of the old minijinja
//! setup: `trim_blocks` (a block tag or comment eats the newline after it),
//! `lstrip_blocks` (and the indentation before it, when it starts a line),
//! `-` (all whitespace on that side) and `+` (none) on any tag, the final
//! newline kept. Every step follows minijinja's lexer, so the output and the
//! line an error names are the same.

use super::{literal, Error, Kind};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok<'s> {
    Data(&'s str),
    VarStart,
    VarEnd,
    BlockStart,
    BlockEnd,
    Ident(&'s str),
    Str(String),
    Int(i128),
    Float(f64),
    /// Punctuation and operators: `+`, `//`, `(`, `|`, ...
    Op(&'static str),
}

impl std::fmt::Display for Tok<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tok::Data(_) => f.write_str("template data"),
            Tok::VarStart => f.write_str("start of variable block"),
            Tok::VarEnd => f.write_str("end of variable block"),
            Tok::BlockStart => f.write_str("start of block"),
            Tok::BlockEnd => f.write_str("end of block"),
            Tok::Ident(name) => write!(f, "identifier `{name}`"),
            Tok::Str(_) => f.write_str("string"),
            Tok::Int(_) => f.write_str("integer"),
            Tok::Float(_) => f.write_str("float"),
            Tok::Op(op) => write!(f, "`{op}`"),
        }
    }
}

/// A token and the line it starts on.
pub type Token<'s> = (Tok<'s>, u32);

#[derive(Clone, Copy, PartialEq)]
enum Ws {
    Default,
    Preserve,
    Remove,
}

#[derive(Clone, Copy, PartialEq)]
enum Marker {
    Var,
    Block,
    Comment,
}

const OPS2: [&str; 6] = ["//", "**", "==", "!=", ">=", "<="];
const OPS1: [&str; 19] = [
    "+", "-", "*", "/", "%", ".", ",", ":", "~", "|", "=", ">", "<", "(", ")", "[", "]", "{", "}",
];

/// The tokens of `src`, then the lexical error that stopped it, if any
/// (the parser reports it when it gets there, as minijinja does).
pub fn tokenize(src: &str) -> (Vec<Token<'_>>, Option<Error>) {
    let mut lexer = Lexer {
        src,
        pos: 0,
        line: 1,
        trim_next: false,
        pending: None,
        tag: None,
        parens: 0,
        tokens: Vec::new(),
    };
    let err = lexer.run().err();
    (lexer.tokens, err)
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    line: u32,
    /// After `-}}`, `-%}`, `-#}`: the next text loses its leading whitespace.
    trim_next: bool,
    /// A tag found after the text before it, with the length of its opening.
    pending: Option<(Marker, usize)>,
    /// Inside `{{ }}` or `{% %}`.
    tag: Option<Marker>,
    parens: isize,
    tokens: Vec<Token<'s>>,
}

impl<'s> Lexer<'s> {
    fn rest(&self) -> &'s str {
        &self.src[self.pos..]
    }

    fn advance(&mut self, bytes: usize) -> &'s str {
        let skipped = &self.src[self.pos..self.pos + bytes];
        self.line += skipped.matches('\n').count() as u32;
        self.pos += bytes;
        skipped
    }

    fn error(&self, msg: &str) -> Error {
        Error::at(Kind::Syntax, self.line, msg)
    }

    fn run(&mut self) -> Result<(), Error> {
        while !self.rest().is_empty() {
            match self.tag {
                None => self.text()?,
                Some(tag) => self.in_tag(tag)?,
            }
        }
        Ok(())
    }

    fn text(&mut self) -> Result<(), Error> {
        if let Some((marker, skip)) = self.pending.take() {
            return self.open(marker, skip);
        }
        if std::mem::take(&mut self.trim_next) {
            let rest = self.rest();
            self.advance(rest.len() - rest.trim_start().len());
        }
        let line = self.line;
        let rest = self.rest();
        let (lead, len) = match find_marker(rest) {
            Some((start, marker, ws)) => {
                self.pending = Some((marker, 2 + usize::from(ws != Ws::Default)));
                let peeked = &rest[..start];
                let lead = match ws {
                    Ws::Default
                        if marker != Marker::Var
                            && at_line_start(&self.src[..self.pos + start]) =>
                    {
                        lstrip(peeked)
                    }
                    Ws::Default | Ws::Preserve => peeked,
                    Ws::Remove => peeked.trim_end(),
                };
                (lead, start)
            }
            None => (rest, rest.len()),
        };
        self.advance(len);
        if !lead.is_empty() {
            self.tokens.push((Tok::Data(lead), line));
        }
        Ok(())
    }

    fn open(&mut self, marker: Marker, skip: usize) -> Result<(), Error> {
        let rest = self.rest();
        match marker {
            Marker::Comment => {
                let Some(end) = rest[skip..].find("#}") else {
                    self.advance(rest.len());
                    return Err(self.error("unexpected end of comment"));
                };
                let ws = ws_of(rest.as_bytes()[end.saturating_sub(1) + skip]);
                self.advance(skip + end + 2);
                self.tail(ws);
            }
            Marker::Block if is_raw(&rest[skip..]) => {
                return Err(Error::unsupported(self.line, "`{% raw %}`"));
            }
            Marker::Var | Marker::Block => {
                let line = self.line;
                self.advance(skip);
                self.tag = Some(marker);
                let tok = if marker == Marker::Var {
                    Tok::VarStart
                } else {
                    Tok::BlockStart
                };
                self.tokens.push((tok, line));
            }
        }
        Ok(())
    }

    /// After a tag's end: `trim_blocks` eats one newline, `-` all whitespace.
    fn tail(&mut self, ws: Ws) {
        match ws {
            Ws::Preserve => {}
            Ws::Remove => self.trim_next = true,
            Ws::Default => {
                for nl in ["\r", "\n"] {
                    if self.rest().starts_with(nl) {
                        self.advance(1);
                    }
                }
            }
        }
    }

    fn in_tag(&mut self, tag: Marker) -> Result<(), Error> {
        let rest = self.rest();
        let blank = rest.bytes().take_while(u8::is_ascii_whitespace).count();
        if blank > 0 {
            self.advance(blank);
            return Ok(());
        }
        let line = self.line;
        if self.parens == 0 {
            let (end, tok) = match tag {
                Marker::Block => ("%}", Tok::BlockEnd),
                _ => ("}}", Tok::VarEnd),
            };
            let ws = match rest.as_bytes()[0] {
                b @ (b'-' | b'+') if rest[1..].starts_with(end) => Some(ws_of(b)),
                _ if rest.starts_with(end) => Some(Ws::Default),
                _ => None,
            };
            if let Some(ws) = ws {
                self.advance(end.len() + usize::from(ws != Ws::Default));
                self.tag = None;
                self.tokens.push((tok, line));
                // `}}` alone never eats a newline: trim_blocks is for blocks.
                if tag == Marker::Block || ws == Ws::Remove {
                    self.tail(ws);
                }
                return Ok(());
            }
        }
        let tok = if let Some(op) = OPS2.iter().find(|op| rest.starts_with(**op)) {
            self.advance(2);
            Tok::Op(op)
        } else if let Some(op) = OPS1.iter().find(|op| rest.starts_with(**op)) {
            self.parens += match *op {
                "(" | "[" | "{" => 1,
                ")" | "]" | "}" => -1,
                _ => 0,
            };
            self.advance(1);
            Tok::Op(op)
        } else {
            match rest.as_bytes()[0] {
                q @ (b'"' | b'\'') => self.string(q)?,
                b'0'..=b'9' => {
                    let (len, tok) = literal::number(rest, self.src[..self.pos].ends_with('.'));
                    self.advance(len);
                    tok.map_err(|msg| self.error(msg))?
                }
                _ => match ident_len(rest) {
                    0 => return Err(self.error("unexpected character")),
                    n => Tok::Ident(self.advance(n)),
                },
            }
        };
        self.tokens.push((tok, line));
        Ok(())
    }

    fn string(&mut self, quote: u8) -> Result<Tok<'s>, Error> {
        let bytes = self.rest().as_bytes();
        let (mut escaped, mut len) = (false, 0);
        for &b in &bytes[1..] {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                _ if b == quote => break,
                _ => {}
            }
            len += 1;
        }
        if escaped || bytes.get(len + 1) != Some(&quote) {
            self.advance(len + 1);
            return Err(self.error("unexpected end of string"));
        }
        let text = self.advance(len + 2);
        literal::unescape(&text[1..text.len() - 1]).map(Tok::Str)
    }
}

/// The next `{{`, `{%` or `{#`: offset, kind, and the `-`/`+` after it.
fn find_marker(s: &str) -> Option<(usize, Marker, Ws)> {
    let bytes = s.as_bytes();
    let mut from = 0;
    loop {
        let at = from + s[from..].find('{')?;
        let marker = match bytes.get(at + 1) {
            Some(b'{') => Marker::Var,
            Some(b'%') => Marker::Block,
            Some(b'#') => Marker::Comment,
            _ => {
                from = at + 1;
                continue;
            }
        };
        return Some((
            at,
            marker,
            bytes.get(at + 2).map_or(Ws::Default, |b| ws_of(*b)),
        ));
    }
}

fn ws_of(b: u8) -> Ws {
    match b {
        b'-' => Ws::Remove,
        b'+' => Ws::Preserve,
        _ => Ws::Default,
    }
}

/// Only whitespace between the last newline (or the start) and here.
fn at_line_start(before: &str) -> bool {
    for c in before.chars().rev() {
        if c == '\n' || c == '\r' {
            return true;
        } else if !c.is_whitespace() {
            return false;
        }
    }
    true
}

/// `lstrip_blocks`: the indentation before a block tag that starts a line.
fn lstrip(s: &str) -> &str {
    let trimmed = s.trim_end_matches(|c: char| c.is_whitespace() && c != '\n' && c != '\r');
    if trimmed.is_empty() || trimmed.ends_with('\n') {
        trimmed
    } else {
        s
    }
}

fn is_raw(tag: &str) -> bool {
    let tag = tag.trim_start_matches(|c: char| c.is_ascii_whitespace());
    tag.strip_prefix("raw").is_some_and(|rest| {
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let rest = rest.strip_prefix(['-', '+']).unwrap_or(rest);
        rest.starts_with("%}")
    })
}

pub fn ident_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    match bytes.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => bytes
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count(),
        _ => 0,
    }
}
