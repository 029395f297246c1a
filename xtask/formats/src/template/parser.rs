//! Parses a template with minijinja's grammar (same precedence, same errors
//! on the same lines) for the subset this tool supports, and refuses the
//! rest of Jinja, naming what and where. Statements here, expressions in
//! `expr.rs`.

use super::ast::{Expr, ExprKind, For, Stmt};
use super::lexer::{tokenize, Tok, Token};
use super::{Error, Kind};

pub(super) type Parsed<T> = Result<T, Error>;

const RESERVED: [&str; 8] = [
    "true", "True", "false", "False", "none", "None", "loop", "self",
];
/// Jinja tags this tool refuses by name (minijinja knows them all).
const TAGS: [&str; 14] = [
    "set",
    "with",
    "macro",
    "call",
    "include",
    "import",
    "from",
    "extends",
    "block",
    "filter",
    "autoescape",
    "do",
    "continue",
    "break",
];

pub fn parse(source: &str) -> Parsed<Vec<Stmt<'_>>> {
    let (tokens, lex_error) = tokenize(source);
    let mut parser = Parser {
        tokens,
        pos: 0,
        lex_error,
        last_line: 0,
        depth: 0,
    };
    parser.block(&|_| false).map_err(|mut err| {
        // Like minijinja: an error without a line is at the last token read.
        err.line = err.line.or(Some(parser.last_line));
        err
    })
}

pub(super) struct Parser<'s> {
    tokens: Vec<Token<'s>>,
    pos: usize,
    lex_error: Option<Error>,
    pub(super) last_line: u32,
    pub(super) depth: usize,
}

pub(super) fn syntax<T>(msg: String) -> Parsed<T> {
    Err(Error::new(Kind::Syntax, &msg))
}

pub(super) fn node(line: u32, kind: ExprKind<'_>) -> Expr<'_> {
    Expr { line, kind }
}

impl<'s> Parser<'s> {
    pub(super) fn current(&mut self) -> Parsed<Option<&Tok<'s>>> {
        match self.tokens.get(self.pos) {
            Some((tok, _)) => Ok(Some(tok)),
            None => self.lex_error.take().map_or(Ok(None), Err),
        }
    }

    /// The line of the next token (of the last one at the end).
    pub(super) fn line(&self) -> u32 {
        self.tokens.get(self.pos).map_or(self.last_line, |t| t.1)
    }

    pub(super) fn next(&mut self) -> Parsed<Option<Tok<'s>>> {
        match self.tokens.get(self.pos) {
            Some((tok, line)) => {
                self.pos += 1;
                self.last_line = *line;
                Ok(Some(tok.clone()))
            }
            None => self.lex_error.take().map_or(Ok(None), Err),
        }
    }

    pub(super) fn is(&mut self, tok: &Tok) -> Parsed<bool> {
        Ok(self.current()? == Some(tok))
    }

    pub(super) fn skip(&mut self, tok: &Tok) -> Parsed<bool> {
        let found = self.is(tok)?;
        if found {
            self.next()?;
        }
        Ok(found)
    }

    pub(super) fn expect(&mut self, tok: &Tok, what: &str) -> Parsed<()> {
        match self.next()? {
            Some(found) if found == *tok => Ok(()),
            Some(found) => syntax(format!("unexpected {found}, expected {what}")),
            None => syntax(format!("unexpected end of input, expected {what}")),
        }
    }

    pub(super) fn ident(&mut self, what: &str) -> Parsed<&'s str> {
        match self.next()? {
            Some(Tok::Ident(name)) => Ok(name),
            Some(found) => syntax(format!("unexpected {found}, expected {what}")),
            None => syntax(format!("unexpected end of input, expected {what}")),
        }
    }

    /// Statements up to the tag `end` accepts (left for the caller), or the end.
    fn block(&mut self, end: &dyn Fn(&Tok) -> bool) -> Parsed<Vec<Stmt<'s>>> {
        let mut body = Vec::new();
        while let Some(tok) = self.next()? {
            match tok {
                Tok::Data(text) => body.push(Stmt::Text(text)),
                Tok::VarStart => {
                    body.push(Stmt::Emit(self.line(), self.expr()?));
                    self.expect(&Tok::VarEnd, "end of variable block")?;
                }
                Tok::BlockStart => {
                    match self.current()? {
                        None => return syntax("unexpected end of input, expected keyword".into()),
                        Some(tok) if end(tok) => return Ok(body),
                        Some(_) => body.push(self.statement()?),
                    }
                    self.expect(&Tok::BlockEnd, "end of block")?;
                }
                other => return syntax(format!("unexpected {other}")),
            }
        }
        Ok(body)
    }

    fn statement(&mut self) -> Parsed<Stmt<'s>> {
        self.depth += 1;
        if self.depth > 150 {
            return syntax("template exceeds maximum recursion limits".into());
        }
        let line = self.line();
        let stmt = match self.next()? {
            Some(Tok::Ident("for")) => self.for_loop()?,
            Some(Tok::Ident("if")) => self.if_cond()?,
            Some(Tok::Ident(tag)) if TAGS.contains(&tag) => {
                return Err(Error::unsupported(line, &format!("`{{% {tag} %}}`")));
            }
            Some(Tok::Ident(name)) => return syntax(format!("unknown statement {name}")),
            Some(tok) => return syntax(format!("unknown {tok}, expected statement")),
            None => return syntax("unexpected end of input, expected block keyword".into()),
        };
        self.depth -= 1;
        Ok(stmt)
    }

    fn for_loop(&mut self) -> Parsed<Stmt<'s>> {
        let line = self.line();
        let unpacking = || Error::unsupported(line, "unpacking in a `for` (`for a, b in ...`)");
        if matches!(
            self.current()?,
            Some(Tok::Op("(") | Tok::Ident("in") | Tok::BlockEnd)
        ) {
            return Err(unpacking());
        }
        let var = self.ident("identifier")?;
        if RESERVED.contains(&var) {
            return syntax(format!("cannot assign to reserved variable name {var}"));
        }
        if self.is(&Tok::Op(","))? {
            return Err(unpacking());
        }
        self.expect(&Tok::Ident("in"), "in")?;
        let iter = self.or()?;
        let filter = match self.skip(&Tok::Ident("if"))? {
            true => Some(self.expr()?),
            false => None,
        };
        if self.is(&Tok::Ident("recursive"))? {
            return Err(Error::unsupported(self.line(), "a recursive `for`"));
        }
        self.expect(&Tok::BlockEnd, "end of block")?;
        let body = self.block(&|t| matches!(t, Tok::Ident("endfor" | "else")))?;
        let mut otherwise = Vec::new();
        if self.skip(&Tok::Ident("else"))? {
            self.expect(&Tok::BlockEnd, "end of block")?;
            otherwise = self.block(&|t| matches!(t, Tok::Ident("endfor")))?;
        }
        if self.next()?.is_none() {
            return syntax(format!(
                "unexpected end of template, expected {{% endfor %}} (the for on line {line})"
            ));
        }
        Ok(Stmt::For(Box::new(For {
            var,
            iter,
            filter,
            body,
            otherwise,
        })))
    }

    fn if_cond(&mut self) -> Parsed<Stmt<'s>> {
        let line = self.line();
        let unclosed = || {
            let msg = format!(
                "unexpected end of template, expected {{% endif %}} (the if on line {line})"
            );
            syntax(msg)
        };
        let cond = self.or()?;
        self.expect(&Tok::BlockEnd, "end of block")?;
        let body = self.block(&|t| matches!(t, Tok::Ident("endif" | "else" | "elif")))?;
        let otherwise = match self.next()? {
            Some(Tok::Ident("else")) => {
                self.expect(&Tok::BlockEnd, "end of block")?;
                let otherwise = self.block(&|t| matches!(t, Tok::Ident("endif")))?;
                if self.next()?.is_none() {
                    return unclosed();
                }
                otherwise
            }
            Some(Tok::Ident("elif")) => vec![self.if_cond()?],
            Some(_) => Vec::new(),
            None => return unclosed(),
        };
        Ok(Stmt::If(cond, body, otherwise))
    }
}
