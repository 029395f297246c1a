//! The template's syntax tree.

use super::value::Value;

pub enum Stmt<'s> {
    Text(&'s str),
    /// `{{ expr }}`, with the line the expression starts on.
    Emit(u32, Expr<'s>),
    /// `{% if %}`: condition, body, the `else`/`elif` part.
    If(Expr<'s>, Vec<Stmt<'s>>, Vec<Stmt<'s>>),
    For(Box<For<'s>>),
}

pub struct For<'s> {
    pub var: &'s str,
    pub iter: Expr<'s>,
    /// `{% for x in xs if cond %}`
    pub filter: Option<Expr<'s>>,
    pub body: Vec<Stmt<'s>>,
    pub otherwise: Vec<Stmt<'s>>,
}

/// An expression and the line it starts on.
pub struct Expr<'s> {
    pub line: u32,
    pub kind: ExprKind<'s>,
}

/// The line an error in `expr` names, as minijinja's code generator has it:
/// the line where the last part of the expression it compiled before the
/// failing step starts (`{{ a\n ~ b }}` fails on line 2). Only expressions
/// that span lines care.
pub fn end(expr: &Expr) -> u32 {
    use ExprKind::*;
    let last = |items: &[Expr]| items.last().map(end);
    match &expr.kind {
        Const(_) | Var(_) => expr.line,
        Attr(base, _) => end(base),
        Item(_, last) | Not(last) | Neg(last) | Bin(_, _, last) => end(last),
        Slice(base, parts) => parts.iter().flatten().last().map_or(end(base), end),
        List(items) => last(items).unwrap_or(expr.line),
        Chain(_, ops) => ops.last().map_or(expr.line, |(_, e)| end(e)),
        Cond(parts, otherwise) => otherwise.as_deref().map_or(end(&parts[1]), end),
        Filter(_, operand, args) | Test(_, operand, args) => last(args).unwrap_or(end(operand)),
    }
}

pub enum ExprKind<'s> {
    Const(Value),
    Var(&'s str),
    Attr(Box<Expr<'s>>, &'s str),
    Item(Box<Expr<'s>>, Box<Expr<'s>>),
    Slice(Box<Expr<'s>>, Box<[Option<Expr<'s>>; 3]>),
    List(Vec<Expr<'s>>),
    Not(Box<Expr<'s>>),
    Neg(Box<Expr<'s>>),
    /// `and`, `or`, `+`, `~`, `==`, `in`, ...
    Bin(&'static str, Box<Expr<'s>>, Box<Expr<'s>>),
    /// A chained comparison, `a < b < c`.
    Chain(Box<Expr<'s>>, Vec<(&'static str, Expr<'s>)>),
    /// `then if test else otherwise`
    Cond(Box<[Expr<'s>; 2]>, Option<Box<Expr<'s>>>),
    Filter(&'s str, Box<Expr<'s>>, Vec<Expr<'s>>),
    Test(&'s str, Box<Expr<'s>>, Vec<Expr<'s>>),
}
