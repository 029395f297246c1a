//! Renders a parsed template over the context, with minijinja's strict
//! undefined: a name or attribute the context lacks is an error where it is
//! printed, tested for truth, iterated, compared or looked into, and only
//! `is defined`, `is undefined` and `default` may look at it.

use std::collections::BTreeMap;

use super::ast::{end, Expr, ExprKind, Stmt};
use super::filters::{filter, test};
use super::ops::{binary, defined, invalid, overflow, slice, truthy};
use super::value::Value;
use super::Error;

/// `html`: printed values are escaped, as minijinja does for a template
/// named `*.html`, `*.htm` or `*.xml` (`.j2` after it or not).
pub fn render(template: &[Stmt], context: &Value, html: bool) -> Result<String, Error> {
    let root = match context {
        Value::Map(map) => map.clone(),
        _ => BTreeMap::new(),
    };
    let mut out = String::new();
    Scope {
        root,
        frames: Vec::new(),
        html,
    }
    .exec(template, &mut out)?;
    Ok(out)
}

struct Scope<'s> {
    root: BTreeMap<String, Value>,
    /// The loops' variables, innermost last: the item and `loop`.
    frames: Vec<Vec<(&'s str, Value)>>,
    html: bool,
}

/// How an error names the expression that came out undefined.
fn path(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Var(name) => (*name).to_owned(),
        ExprKind::Attr(base, name) => format!("{}.{name}", path(base)),
        ExprKind::Item(base, index) => match &index.kind {
            ExprKind::Const(value) => format!("{}[{}]", path(base), value.to_text()),
            _ => format!("{}[...]", path(base)),
        },
        _ => "(...)".to_owned(),
    }
}

/// `base.name` or `base[key]` that is not there: undefined, saying what
/// `base` is or has.
fn missing(base: &Value, expr: &Expr, base_expr: &Expr) -> Value {
    let has = match base {
        Value::Map(map) if map.is_empty() => "is empty".to_owned(),
        Value::Map(map) => format!("has {}", map.keys().cloned().collect::<Vec<_>>().join(", ")),
        Value::None => "is none".to_owned(),
        other => format!("is a {}", other.kind()),
    };
    Value::undefined(format!("`{}` ({} {has})", path(expr), path(base_expr)))
}

impl<'s> Scope<'s> {
    fn exec(&mut self, stmts: &[Stmt<'s>], out: &mut String) -> Result<(), Error> {
        for stmt in stmts {
            match stmt {
                Stmt::Text(text) => out.push_str(text),
                Stmt::Emit(line, expr) => {
                    let value = self.eval(expr)?;
                    defined(&value, *line)?;
                    let text = value.to_text();
                    if !self.html {
                        out.push_str(&text);
                        continue;
                    }
                    for c in text.chars() {
                        match c {
                            '<' => out.push_str("&lt;"),
                            '>' => out.push_str("&gt;"),
                            '&' => out.push_str("&amp;"),
                            '"' => out.push_str("&quot;"),
                            '\'' => out.push_str("&#x27;"),
                            '/' => out.push_str("&#x2f;"),
                            c => out.push(c),
                        }
                    }
                }
                Stmt::If(cond, body, otherwise) => {
                    let value = self.eval(cond)?;
                    let branch = if truthy(&value, end(cond))? {
                        body
                    } else {
                        otherwise
                    };
                    self.exec(branch, out)?;
                }
                Stmt::For(f) => {
                    let value = self.eval(&f.iter)?;
                    defined(&value, end(&f.iter))?;
                    let Some(mut items) = value.items() else {
                        return invalid(end(&f.iter), format!("{} is not iterable", value.kind()));
                    };
                    if let Some(cond) = &f.filter {
                        let mut kept = Vec::new();
                        for item in items {
                            self.frames.push(vec![(f.var, item.clone())]);
                            let keep = self.eval(cond).and_then(|v| truthy(&v, end(cond)));
                            self.frames.pop();
                            if keep? {
                                kept.push(item);
                            }
                        }
                        items = kept;
                    }
                    let length = items.len();
                    for (index, item) in items.into_iter().enumerate() {
                        let int = |i: usize| Value::Int(i as i128);
                        let status = BTreeMap::from([
                            ("index".to_owned(), int(index + 1)),
                            ("index0".to_owned(), int(index)),
                            ("revindex".to_owned(), int(length - index)),
                            ("revindex0".to_owned(), int(length - index - 1)),
                            ("first".to_owned(), Value::Bool(index == 0)),
                            ("last".to_owned(), Value::Bool(index + 1 == length)),
                            ("length".to_owned(), int(length)),
                            ("depth".to_owned(), int(1)),
                            ("depth0".to_owned(), int(0)),
                        ]);
                        self.frames
                            .push(vec![(f.var, item), ("loop", Value::Map(status))]);
                        let done = self.exec(&f.body, out);
                        self.frames.pop();
                        done?;
                    }
                    if length == 0 {
                        self.exec(&f.otherwise, out)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn lookup(&self, name: &str) -> Value {
        let local = self.frames.iter().rev().flatten().find(|(n, _)| *n == name);
        match local.map(|(_, v)| v).or_else(|| self.root.get(name)) {
            Some(value) => value.clone(),
            None => Value::undefined(format!("`{name}`")),
        }
    }

    fn eval(&mut self, expr: &Expr<'s>) -> Result<Value, Error> {
        // Where an error in this step is, as minijinja counts (`end`).
        let line = end(expr);
        Ok(match &expr.kind {
            ExprKind::Const(value) => value.clone(),
            ExprKind::Var(name) => self.lookup(name),
            ExprKind::Attr(base_expr, name) => {
                let base = self.eval(base_expr)?;
                match &base {
                    Value::Undefined { .. } => return Err(Error::undefined(&base, line)),
                    Value::Map(map) => map.get(*name).cloned(),
                    _ => None,
                }
                .unwrap_or_else(|| missing(&base, expr, base_expr))
            }
            ExprKind::Item(base_expr, index) => {
                let base = self.eval(base_expr)?;
                let index = self.eval(index)?;
                let at = |len: usize| {
                    let i = index.as_int()?;
                    let i = if i < 0 { i + len as i128 } else { i };
                    usize::try_from(i).ok()
                };
                match &base {
                    Value::Undefined { .. } => return Err(Error::undefined(&base, line)),
                    Value::Map(map) => match &index {
                        Value::Str(key) => map.get(key).cloned(),
                        _ => None,
                    },
                    Value::List(items) => at(items.len()).and_then(|i| items.get(i).cloned()),
                    Value::Str(s) => at(s.chars().count())
                        .and_then(|i| s.chars().nth(i))
                        .map(|c| Value::Str(c.into())),
                    _ => None,
                }
                .unwrap_or_else(|| missing(&base, expr, base_expr))
            }
            ExprKind::Slice(base, parts) => {
                let base = self.eval(base)?;
                if base.is_undefined() {
                    return Err(Error::undefined(&base, line));
                }
                let mut bounds = [None, None, None];
                for (bound, part) in bounds.iter_mut().zip(parts.iter()) {
                    let Some(part) = part else { continue };
                    *bound = match self.eval(part)? {
                        Value::None => None,
                        value => match value.as_int() {
                            Some(i) => Some(i),
                            None => {
                                return invalid(
                                    line,
                                    format!("cannot slice with a {}", value.kind()),
                                )
                            }
                        },
                    };
                }
                let step = bounds[2].unwrap_or(1);
                if step == 0 {
                    return invalid(line, "cannot slice by step size of 0".to_owned());
                }
                match base {
                    Value::Str(s) => {
                        let chars: Vec<char> = s.chars().collect();
                        let picked = slice(chars.len(), bounds[0], bounds[1], step);
                        Value::Str(picked.into_iter().map(|i| chars[i]).collect())
                    }
                    Value::List(items) => {
                        let picked = slice(items.len(), bounds[0], bounds[1], step);
                        Value::List(picked.into_iter().map(|i| items[i].clone()).collect())
                    }
                    Value::None => Value::List(Vec::new()),
                    other => {
                        return invalid(
                            line,
                            format!("value of type {} cannot be sliced", other.kind()),
                        )
                    }
                }
            }
            ExprKind::List(items) => Value::List(
                items
                    .iter()
                    .map(|item| self.eval(item))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::Not(operand) => {
                let value = self.eval(operand)?;
                Value::Bool(!truthy(&value, line)?)
            }
            // The one step minijinja places where the expression starts.
            ExprKind::Neg(operand) => match self.eval(operand)? {
                Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(|| overflow(expr.line))?),
                Value::Float(f) => Value::Float(-f),
                other => {
                    defined(&other, expr.line)?;
                    return invalid(expr.line, format!("cannot negate a {}", other.kind()));
                }
            },
            ExprKind::Bin(op @ ("and" | "or"), left_expr, right) => {
                let left = self.eval(left_expr)?;
                match truthy(&left, end(left_expr))? == (*op == "or") {
                    true => left,
                    false => self.eval(right)?,
                }
            }
            ExprKind::Bin(op, left, right) => {
                let left = self.eval(left)?;
                let right = self.eval(right)?;
                binary(op, &left, &right, line)?
            }
            ExprKind::Chain(first, ops) => {
                let mut left = self.eval(first)?;
                for (op, right_expr) in ops {
                    let right = self.eval(right_expr)?;
                    if !binary(op, &left, &right, end(right_expr))?.is_true() {
                        return Ok(Value::Bool(false));
                    }
                    left = right;
                }
                Value::Bool(true)
            }
            ExprKind::Cond(parts, otherwise) => {
                let [test, then] = &**parts;
                let value = self.eval(test)?;
                match (truthy(&value, end(test))?, otherwise) {
                    (true, _) => self.eval(then)?,
                    (false, Some(otherwise)) => self.eval(otherwise)?,
                    (false, None) => Value::Undefined {
                        silent: true,
                        what: "the missing else".to_owned(),
                    },
                }
            }
            ExprKind::Filter(name, operand, args) => {
                let value = self.eval(operand)?;
                let args = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<Result<Vec<_>, _>>()?;
                filter(name, value, &args, line)?
            }
            ExprKind::Test(name, operand, args) => {
                let value = self.eval(operand)?;
                let args = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<Result<Vec<_>, _>>()?;
                Value::Bool(test(name, &value, &args, line)?)
            }
        })
    }
}
