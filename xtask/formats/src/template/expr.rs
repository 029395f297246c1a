//! Expressions, by minijinja's precedence, loosest first: `x if c else y`,
//! `or`, `and`, `not`, comparisons and `in`, `+ -`, `~`, `* / // %`, then
//! `-x`, attributes, subscripts and slices, filters and tests.

use super::ast::{Expr, ExprKind};
use super::filters::{FILTERS, TESTS};
use super::lexer::Tok;
use super::parser::{node, syntax, Parsed, Parser};
use super::value::Value;
use super::Error;

impl<'s> Parser<'s> {
    pub(super) fn expr(&mut self) -> Parsed<Expr<'s>> {
        self.depth += 1;
        if self.depth > 150 {
            return syntax("template exceeds maximum recursion limits".into());
        }
        let expr = self.if_expr();
        self.depth -= 1;
        expr
    }

    fn if_expr(&mut self) -> Parsed<Expr<'s>> {
        let mut expr = self.or()?;
        while self.skip(&Tok::Ident("if"))? {
            let test = self.or()?;
            let otherwise = match self.skip(&Tok::Ident("else"))? {
                true => Some(Box::new(self.if_expr()?)),
                false => None,
            };
            expr = node(expr.line, ExprKind::Cond(Box::new([test, expr]), otherwise));
        }
        Ok(expr)
    }

    /// Left-associative operators `ops` between operands parsed by `operand`.
    fn binary(
        &mut self,
        ops: &[&'static str],
        operand: fn(&mut Self) -> Parsed<Expr<'s>>,
    ) -> Parsed<Expr<'s>> {
        let line = self.line();
        let mut left = operand(self)?;
        while let Some(op) = match self.current()? {
            Some(Tok::Ident(op) | Tok::Op(op)) => {
                let op: &str = op;
                ops.iter().copied().find(|o| *o == op)
            }
            _ => None,
        } {
            self.next()?;
            let right = operand(self)?;
            left = node(line, ExprKind::Bin(op, Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    pub(super) fn or(&mut self) -> Parsed<Expr<'s>> {
        self.binary(&["or"], Self::and)
    }

    fn and(&mut self) -> Parsed<Expr<'s>> {
        self.binary(&["and"], Self::not)
    }

    fn not(&mut self) -> Parsed<Expr<'s>> {
        let line = self.line();
        match self.skip(&Tok::Ident("not"))? {
            true => Ok(node(line, ExprKind::Not(Box::new(self.not()?)))),
            false => self.compare(),
        }
    }

    fn compare(&mut self) -> Parsed<Expr<'s>> {
        let line = self.line();
        let first = self.sum()?;
        let mut ops = Vec::new();
        loop {
            let op = match self.current()? {
                Some(Tok::Op(op @ ("==" | "!=" | "<" | "<=" | ">" | ">="))) => *op,
                Some(Tok::Ident("in")) => "in",
                Some(Tok::Ident("not")) => {
                    self.next()?;
                    self.expect(&Tok::Ident("in"), "in")?;
                    ops.push(("not in", self.sum()?));
                    continue;
                }
                _ => break,
            };
            self.next()?;
            ops.push((op, self.sum()?));
        }
        Ok(match ops.len() {
            0 => first,
            1 => {
                let (op, right) = ops.pop().expect("one operator");
                let (first, right) = (Box::new(first), Box::new(right));
                match op {
                    "not in" => {
                        let test = node(line, ExprKind::Bin("in", first, right));
                        node(line, ExprKind::Not(Box::new(test)))
                    }
                    op => node(line, ExprKind::Bin(op, first, right)),
                }
            }
            _ => node(line, ExprKind::Chain(Box::new(first), ops)),
        })
    }

    fn sum(&mut self) -> Parsed<Expr<'s>> {
        self.binary(&["+", "-"], Self::concat)
    }

    fn concat(&mut self) -> Parsed<Expr<'s>> {
        self.binary(&["~"], Self::product)
    }

    fn product(&mut self) -> Parsed<Expr<'s>> {
        self.binary(&["*", "/", "//", "%"], Self::power)
    }

    fn power(&mut self) -> Parsed<Expr<'s>> {
        let expr = self.unary()?;
        match self.is(&Tok::Op("**"))? {
            true => Err(Error::unsupported(self.line(), "`**`")),
            false => Ok(expr),
        }
    }

    fn unary(&mut self) -> Parsed<Expr<'s>> {
        let expr = self.negation()?;
        let mut expr = self.postfix(expr)?;
        loop {
            if self.skip(&Tok::Op("|"))? {
                let name = self.name(&FILTERS, "filter")?;
                let args = self.args()?;
                expr = node(expr.line, ExprKind::Filter(name, Box::new(expr), args));
            } else if self.skip(&Tok::Ident("is"))? {
                let negated = self.skip(&Tok::Ident("not"))?;
                let name = self.name(&TESTS, "test")?;
                let args = match self.current()? {
                    Some(Tok::Op("(")) => self.args()?,
                    Some(Tok::Ident("and" | "or" | "else" | "is")) => Vec::new(),
                    Some(Tok::Ident(_) | Tok::Str(_) | Tok::Int(_) | Tok::Float(_))
                    | Some(Tok::Op("+" | "-" | "[" | "{")) => {
                        let arg = self.negation()?;
                        vec![self.postfix(arg)?]
                    }
                    _ => Vec::new(),
                };
                expr = node(expr.line, ExprKind::Test(name, Box::new(expr), args));
                if negated {
                    expr = node(expr.line, ExprKind::Not(Box::new(expr)));
                }
            } else {
                return Ok(expr);
            }
        }
    }

    /// A filter's or test's name, refused unless in `known`.
    fn name(&mut self, known: &[&str], what: &str) -> Parsed<&'s str> {
        let line = self.line();
        let name = self.ident("identifier")?;
        if !known.contains(&name) || self.is(&Tok::Op("."))? {
            return Err(Error::unsupported(line, &format!("the {what} `{name}`")));
        }
        Ok(name)
    }

    /// `-x`: minus applies to the operand with its attributes and subscripts.
    fn negation(&mut self) -> Parsed<Expr<'s>> {
        let line = self.line();
        if !self.skip(&Tok::Op("-"))? {
            return self.primary();
        }
        let operand = self.negation()?;
        let operand = self.postfix(operand)?;
        Ok(node(line, ExprKind::Neg(Box::new(operand))))
    }

    fn postfix(&mut self, mut expr: Expr<'s>) -> Parsed<Expr<'s>> {
        let line = expr.line;
        loop {
            expr = match self.current()? {
                Some(Tok::Op(".")) => {
                    self.next()?;
                    let kind = match self.next()? {
                        Some(Tok::Ident(name)) => ExprKind::Attr(Box::new(expr), name),
                        Some(Tok::Int(index)) => {
                            let index = node(self.last_line, ExprKind::Const(Value::Int(index)));
                            ExprKind::Item(Box::new(expr), Box::new(index))
                        }
                        Some(tok) => {
                            return syntax(format!(
                                "unexpected {tok}, expected identifier or integer"
                            ))
                        }
                        None => {
                            return syntax(
                                "unexpected end of input, expected identifier or integer".into(),
                            )
                        }
                    };
                    node(line, kind)
                }
                Some(Tok::Op("[")) => {
                    self.next()?;
                    let mut parts = [None, None, None];
                    let mut slice = false;
                    if !self.is(&Tok::Op(":"))? {
                        parts[0] = Some(self.expr()?);
                    }
                    if self.skip(&Tok::Op(":"))? {
                        slice = true;
                        if !self.is(&Tok::Op("]"))? && !self.is(&Tok::Op(":"))? {
                            parts[1] = Some(self.expr()?);
                        }
                        if self.skip(&Tok::Op(":"))? && !self.is(&Tok::Op("]"))? {
                            parts[2] = Some(self.expr()?);
                        }
                    }
                    self.expect(&Tok::Op("]"), "`]`")?;
                    match (slice, parts) {
                        (true, parts) => {
                            node(line, ExprKind::Slice(Box::new(expr), Box::new(parts)))
                        }
                        (false, [Some(index), ..]) => {
                            node(line, ExprKind::Item(Box::new(expr), Box::new(index)))
                        }
                        (false, _) => return syntax("empty subscript".into()),
                    }
                }
                Some(Tok::Op("(")) => {
                    return Err(Error::unsupported(
                        self.line(),
                        "calling a function or method",
                    ))
                }
                _ => return Ok(expr),
            }
        }
    }

    /// A filter's arguments in parentheses, if any: positional only.
    fn args(&mut self) -> Parsed<Vec<Expr<'s>>> {
        let mut args = Vec::new();
        if !self.skip(&Tok::Op("("))? {
            return Ok(args);
        }
        loop {
            if self.skip(&Tok::Op(")"))? {
                return Ok(args);
            }
            if !args.is_empty() {
                self.expect(&Tok::Op(","), "`,`")?;
                if self.skip(&Tok::Op(")"))? {
                    return Ok(args);
                }
            }
            if matches!(self.current()?, Some(Tok::Op("*" | "**"))) {
                return Err(Error::unsupported(self.line(), "`*args` and `**kwargs`"));
            }
            let arg = self.expr()?;
            if matches!(arg.kind, ExprKind::Var(_)) && self.is(&Tok::Op("="))? {
                return Err(Error::unsupported(self.line(), "a keyword argument"));
            }
            args.push(arg);
        }
    }

    fn primary(&mut self) -> Parsed<Expr<'s>> {
        self.depth += 1;
        if self.depth > 150 {
            return syntax("template exceeds maximum recursion limits".into());
        }
        let line = self.line();
        let constant = |value| -> Parsed<Expr<'s>> { Ok(node(line, ExprKind::Const(value))) };
        let expr = match self.next()? {
            Some(Tok::Ident("true" | "True")) => constant(Value::Bool(true)),
            Some(Tok::Ident("false" | "False")) => constant(Value::Bool(false)),
            Some(Tok::Ident("none" | "None")) => constant(Value::None),
            Some(Tok::Ident(name)) => Ok(node(line, ExprKind::Var(name))),
            Some(Tok::Str(mut text)) => {
                // Adjacent literals join: `"a" "b"` is `"ab"`.
                while let Some(Tok::Str(more)) = self.current()? {
                    text.push_str(more);
                    self.next()?;
                }
                constant(Value::Str(text))
            }
            Some(Tok::Int(i)) => constant(Value::Int(i)),
            Some(Tok::Float(f)) => constant(Value::Float(f)),
            Some(Tok::Op("(")) => {
                if self.is(&Tok::Op(")"))? {
                    return Err(Error::unsupported(line, "a tuple"));
                }
                let expr = self.expr()?;
                if self.is(&Tok::Op(","))? {
                    return Err(Error::unsupported(line, "a tuple"));
                }
                self.expect(&Tok::Op(")"), "`)`")?;
                Ok(expr)
            }
            Some(Tok::Op("[")) => {
                let mut items = Vec::new();
                while !self.skip(&Tok::Op("]"))? {
                    if !items.is_empty() {
                        self.expect(&Tok::Op(","), "`,`")?;
                        if self.skip(&Tok::Op("]"))? {
                            break;
                        }
                    }
                    items.push(self.expr()?);
                }
                Ok(node(line, ExprKind::List(items)))
            }
            Some(Tok::Op("{")) => Err(Error::unsupported(line, "a map literal")),
            Some(tok) => syntax(format!("unexpected {tok}")),
            None => syntax("unexpected end of input, expected expression".into()),
        };
        self.depth -= 1;
        expr
    }
}
