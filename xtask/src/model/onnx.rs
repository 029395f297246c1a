//! Reads what an ONNX file declares, without the `onnx` package: the
//! ModelProto's IR version, opsets, graph inputs and outputs with their
//! shapes, and the op types of its nodes. Enough to refuse a file that is not
//! a model before the Hailo DFC spends minutes on it, and to report a model's
//! facts honestly.
//!
//! ONNX is protobuf (onnx/onnx.proto3); this decodes only the wire format
//! and the few field numbers below, and treats anything malformed as "not an
//! ONNX model".

use std::path::Path;

/// What an ONNX model declares.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OnnxModel {
    pub ir_version: u64,
    /// `(domain, version)`; the default domain is `""` (`ai.onnx`).
    pub opsets: Vec<(String, u64)>,
    pub inputs: Vec<Tensor>,
    pub outputs: Vec<Tensor>,
    /// Every node's op type, in graph order.
    pub ops: Vec<String>,
    /// Every node, in graph order (not in `--json`: `ops` says what they are).
    pub nodes: Vec<Node>,
}

record!(write: OnnxModel (Same) {
    ir_version,
    opsets,
    inputs,
    outputs,
    ops,
});

/// What the target rules need of a node.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub op: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    /// The length of its `kernel_shape` attribute, when it has one.
    pub kernel_rank: Option<usize>,
}

/// A graph input or output: its name and dims (`None`: a symbolic or
/// missing dim, i.e. dynamic).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tensor {
    pub name: String,
    pub dims: Vec<Option<u64>>,
}

record!(write: Tensor (Same) {
    name,
    dims,
});

impl OnnxModel {
    /// The opset of the default domain.
    pub fn opset(&self) -> Option<u64> {
        self.opsets
            .iter()
            .find(|(d, _)| d.is_empty() || d == "ai.onnx")
            .map(|(_, v)| *v)
    }
}

/// Reads `path` as an ONNX model; the error says why it is not one.
pub fn read(path: &Path) -> Result<OnnxModel, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    parse(&bytes)
}

pub fn parse(bytes: &[u8]) -> Result<OnnxModel, String> {
    let not_onnx = |why: &str| {
        format!("not an ONNX model: it does not read as ONNX's protobuf ModelProto ({why})")
    };
    let mut model = OnnxModel::default();
    let mut graph = None;
    for field in Fields::new(bytes) {
        match field.map_err(|e| not_onnx(&e))? {
            (1, Value::Varint(v)) => model.ir_version = v,
            (7, Value::Bytes(b)) => graph = Some(b),
            (8, Value::Bytes(b)) => {
                let (mut domain, mut version) = (String::new(), 0);
                for f in Fields::new(b) {
                    match f.map_err(|e| not_onnx(&e))? {
                        (1, Value::Bytes(d)) => domain = text(d).map_err(|e| not_onnx(&e))?,
                        (2, Value::Varint(v)) => version = v,
                        _ => {}
                    }
                }
                model.opsets.push((domain, version));
            }
            _ => {}
        }
    }
    if model.ir_version == 0 {
        return Err(not_onnx("no ir_version"));
    }
    let graph = graph.ok_or_else(|| not_onnx("no graph"))?;
    for field in Fields::new(graph) {
        match field.map_err(|e| not_onnx(&e))? {
            (1, Value::Bytes(node)) => {
                let node = self::node(node).map_err(|e| not_onnx(&e))?;
                model.ops.push(node.op.clone());
                model.nodes.push(node);
            }
            (11, Value::Bytes(info)) => model.inputs.push(tensor(info).map_err(|e| not_onnx(&e))?),
            (12, Value::Bytes(info)) => model.outputs.push(tensor(info).map_err(|e| not_onnx(&e))?),
            _ => {}
        }
    }
    Ok(model)
}

/// NodeProto: input (1), output (2), name (3), op_type (4), attribute (5).
fn node(bytes: &[u8]) -> Result<Node, String> {
    let mut node = Node::default();
    for field in Fields::new(bytes) {
        match field? {
            (1, Value::Bytes(b)) => node.inputs.push(text(b)?),
            (2, Value::Bytes(b)) => node.outputs.push(text(b)?),
            (3, Value::Bytes(b)) => node.name = text(b)?,
            (4, Value::Bytes(b)) => node.op = text(b)?,
            (5, Value::Bytes(b)) => {
                if let Some(rank) = kernel_rank(b)? {
                    node.kernel_rank = Some(rank);
                }
            }
            _ => {}
        }
    }
    if node.op.is_empty() {
        return Err("a node without an op_type".to_owned());
    }
    Ok(node)
}

/// AttributeProto `kernel_shape`: name (1), ints (8, packed or not).
fn kernel_rank(attribute: &[u8]) -> Result<Option<usize>, String> {
    let (mut name, mut ints) = (String::new(), 0);
    for field in Fields::new(attribute) {
        match field? {
            (1, Value::Bytes(b)) => name = text(b)?,
            (8, Value::Varint(_)) => ints += 1,
            (8, Value::Bytes(packed)) => {
                ints += packed.iter().filter(|b| *b & 0x80 == 0).count();
            }
            _ => {}
        }
    }
    Ok((name == "kernel_shape").then_some(ints))
}

/// ValueInfoProto: name (1), type (2) -> tensor_type (1) -> shape (2) ->
/// dim (1) -> dim_value (1) | dim_param (2).
fn tensor(info: &[u8]) -> Result<Tensor, String> {
    let mut tensor = Tensor::default();
    for field in Fields::new(info) {
        match field? {
            (1, Value::Bytes(name)) => tensor.name = text(name)?,
            (2, Value::Bytes(kind)) => {
                let Some(tensor_type) = sub(kind, 1)? else {
                    continue;
                };
                let Some(shape) = sub(tensor_type, 2)? else {
                    continue;
                };
                for dim in Fields::new(shape) {
                    if let (1, Value::Bytes(dim)) = dim? {
                        let mut value = None;
                        for f in Fields::new(dim) {
                            if let (1, Value::Varint(v)) = f? {
                                value = Some(v);
                            }
                        }
                        tensor.dims.push(value);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(tensor)
}

/// The first length-delimited field `number` of `message`.
fn sub(message: &[u8], number: u64) -> Result<Option<&[u8]>, String> {
    for field in Fields::new(message) {
        if let (n, Value::Bytes(b)) = field? {
            if n == number {
                return Ok(Some(b));
            }
        }
    }
    Ok(None)
}

fn text(bytes: &[u8]) -> Result<String, String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| "a name that is not UTF-8".to_owned())
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// The fields of one protobuf message, in order.
struct Fields<'a> {
    rest: &'a [u8],
    len: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Fields<'a> {
        Fields {
            rest: bytes,
            len: bytes.len(),
            failed: false,
        }
    }

    /// How far into the message the reader is.
    fn consumed(&self) -> usize {
        self.len - self.rest.len()
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for (i, &byte) in self.rest.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.rest = &self.rest[i + 1..];
                return Ok(value);
            }
        }
        Err("a truncated varint".to_owned())
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
        let n = usize::try_from(n).map_err(|_| "a length beyond memory".to_owned())?;
        if n > self.rest.len() {
            return Err(format!(
                "a field of {n} bytes where {} remain",
                self.rest.len()
            ));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn next_field(&mut self) -> Result<(u64, Value<'a>), String> {
        let key = self.varint()?;
        let (number, wire) = (key >> 3, key & 7);
        if number == 0 {
            return Err("field number 0".to_owned());
        }
        let value = match wire {
            0 => Value::Varint(self.varint()?),
            1 => self.take(8).map(|_| Value::Fixed)?,
            2 => {
                let n = self.varint()?;
                Value::Bytes(self.take(n)?)
            }
            5 => self.take(4).map(|_| Value::Fixed)?,
            other => {
                return Err(format!(
                    "an unknown field encoding {other} near byte {}",
                    self.consumed()
                ))
            }
        };
        Ok((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        let field = self.next_field();
        self.failed = field.is_err();
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(number << 3 | 2, &mut out);
        varint(bytes.len() as u64, &mut out);
        out.extend_from_slice(bytes);
        out
    }

    fn int(number: u64, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        varint(number << 3, &mut out);
        varint(v, &mut out);
        out
    }

    fn value_info(name: &str, dims: &[Option<u64>]) -> Vec<u8> {
        let mut shape = Vec::new();
        for d in dims {
            shape.extend(field(
                1,
                &match d {
                    Some(v) => int(1, *v),
                    None => field(2, b"batch"),
                },
            ));
        }
        let tensor_type = [int(1, 1), field(2, &shape)].concat();
        [field(1, name.as_bytes()), field(2, &field(1, &tensor_type))].concat()
    }

    #[test]
    fn reads_what_a_model_declares() {
        let node = |op: &str| {
            field(
                1,
                &[field(1, b"x"), field(2, b"y"), field(4, op.as_bytes())].concat(),
            )
        };
        let graph = [
            node("Conv"),
            node("Relu"),
            field(
                11,
                &value_info("imu_window", &[Some(1), Some(100), Some(9)]),
            ),
            field(12, &value_info("latent_embeddings", &[None, Some(64)])),
        ]
        .concat();
        let model = [
            int(1, 7),
            field(2, b"pytorch"),
            field(7, &graph),
            field(8, &[field(1, b""), int(2, 11)].concat()),
        ]
        .concat();
        let read = parse(&model).unwrap();
        assert_eq!(read.ir_version, 7);
        assert_eq!(read.opset(), Some(11));
        assert_eq!(read.ops, ["Conv", "Relu"]);
        assert_eq!(
            read.inputs,
            [Tensor {
                name: "imu_window".to_owned(),
                dims: vec![Some(1), Some(100), Some(9)]
            }]
        );
        assert_eq!(read.outputs[0].dims, [None, Some(64)]);
    }

    #[test]
    fn text_and_truncated_files_are_not_models() {
        for bytes in [
            &b"{\"placeholder\": true}\n"[..],
            b"",
            &[0x08, 0x07, 0x3a, 0x10, 0x0a][..],
        ] {
            let err = parse(bytes).unwrap_err();
            assert!(
                err.starts_with(
                    "not an ONNX model: it does not read as ONNX's protobuf ModelProto ("
                ),
                "{err}"
            );
        }
    }
}
