//! PyTorch checkpoints written by `torch.save` (the zip format): `pytorch_model.bin` shards and
//! BEATs' `{'cfg': dict, 'model': state_dict}`.
//!
//! The archive is a stored (uncompressed) zip holding `*/data.pkl` (a pickle describing the
//! object) and `*/data/N` (raw little-endian storages). The pickle is run by a minimal, safe
//! virtual machine: it only builds dicts, lists, tuples, scalars and tensor *descriptions*
//! (`torch._utils._rebuild_tensor_v2` of a persistent storage id); any other callable is
//! refused. No tensor data is read here: each tensor becomes a `TensorEntry` (file, byte
//! offset, dtype, shape, strides) read when the model asks for it.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::safetensors::dtype_size;
use super::{StoredDtype, TensorEntry, WeightError};

/// A Python value as far as state-dict pickles need.
#[derive(Debug, Clone)]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<PyValue>),
    List(Vec<PyValue>),
    /// Dicts keep insertion order (OrderedDict state dicts, cfg dicts).
    Dict(Vec<(PyValue, PyValue)>),
    Global {
        module: String,
        name: String,
    },
    Storage(StorageRef),
    Tensor(TensorRef),
}

#[derive(Debug, Clone)]
pub struct StorageRef {
    /// `torch.FloatStorage` etc.; `None` for a storage type this reader does not convert.
    pub dtype: Option<StoredDtype>,
    pub type_name: String,
    /// The storage's record name in the archive (`data/<key>`).
    pub key: String,
    pub numel: u64,
}

#[derive(Debug, Clone)]
pub struct TensorRef {
    pub storage: StorageRef,
    /// In elements of the storage.
    pub offset: u64,
    pub shape: Vec<usize>,
    pub stride: Vec<usize>,
}

impl PyValue {
    fn type_name(&self) -> &'static str {
        match self {
            PyValue::None => "None",
            PyValue::Bool(_) => "bool",
            PyValue::Int(_) => "int",
            PyValue::Float(_) => "float",
            PyValue::Str(_) => "str",
            PyValue::Tuple(_) => "tuple",
            PyValue::List(_) => "list",
            PyValue::Dict(_) => "dict",
            PyValue::Global { .. } => "global",
            PyValue::Storage(_) => "storage",
            PyValue::Tensor(_) => "tensor",
        }
    }

    /// The value of `key` in a dict with string keys.
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        match self {
            PyValue::Dict(items) => items
                .iter()
                .find(|(k, _)| matches!(k, PyValue::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Plain data (no tensors) as JSON, e.g. a cfg dict to deserialize into a config struct.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        use serde_json::Value;
        Some(match self {
            PyValue::None => Value::Null,
            PyValue::Bool(b) => Value::Bool(*b),
            PyValue::Int(i) => Value::from(*i),
            PyValue::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            PyValue::Str(s) => Value::String(s.clone()),
            PyValue::Tuple(v) | PyValue::List(v) => {
                Value::Array(v.iter().map(PyValue::to_json).collect::<Option<_>>()?)
            }
            PyValue::Dict(items) => {
                let mut map = serde_json::Map::new();
                for (k, v) in items {
                    let PyValue::Str(k) = k else { return None };
                    map.insert(k.clone(), v.to_json()?);
                }
                Value::Object(map)
            }
            PyValue::Global { .. } | PyValue::Storage(_) | PyValue::Tensor(_) => return None,
        })
    }
}

/// An opened `torch.save` archive: its unpickled root object and where each storage lies.
pub struct TorchArchive {
    path: PathBuf,
    pub root: PyValue,
    /// Storage key → (byte offset in the file, byte length).
    storages: BTreeMap<String, (u64, u64)>,
}

impl TorchArchive {
    pub fn open(path: &Path) -> Result<Self, WeightError> {
        let corrupt = |m: String| WeightError::Corrupt {
            path: path.to_path_buf(),
            message: m,
        };
        let file = File::open(path).map_err(|e| WeightError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let records = zip_records(&file, path)?;
        let pickle_name = records
            .keys()
            .find(|n| n.ends_with("data.pkl"))
            .cloned()
            .ok_or_else(|| corrupt("not a torch.save archive: no data.pkl record".into()))?;
        let dir = &pickle_name[..pickle_name.len() - "data.pkl".len()];
        let (offset, len) = records[&pickle_name];
        if len > 1 << 30 {
            return Err(corrupt(format!(
                "data.pkl of {len} bytes is implausibly large"
            )));
        }
        let mut pickle = vec![0u8; len as usize];
        file.read_exact_at(&mut pickle, offset)
            .map_err(|e| corrupt(format!("cannot read data.pkl: {e}")))?;
        let root = Unpickler::new(&pickle)
            .run()
            .map_err(|m| corrupt(format!("data.pkl: {m}")))?;
        let storages = records
            .iter()
            .filter_map(|(name, &range)| {
                name.strip_prefix(dir)
                    .and_then(|rest| rest.strip_prefix("data/"))
                    .map(|key| (key.to_string(), range))
            })
            .collect();
        Ok(Self {
            path: path.to_path_buf(),
            root,
            storages,
        })
    }

    /// The tensors of a state dict (a dict of name → tensor), as entries under `prefix`.
    pub fn state_dict_entries(
        &self,
        dict: &PyValue,
        prefix: &str,
    ) -> Result<Vec<(String, TensorEntry)>, WeightError> {
        let PyValue::Dict(items) = dict else {
            return Err(self.corrupt(format!(
                "expected a state dict, found a {}",
                dict.type_name()
            )));
        };
        items
            .iter()
            .map(|(k, v)| {
                let PyValue::Str(name) = k else {
                    return Err(self.corrupt(format!("state dict key is a {}", k.type_name())));
                };
                let PyValue::Tensor(t) = v else {
                    return Err(self.corrupt(format!(
                        "state dict entry `{name}` is a {}, not a tensor",
                        v.type_name()
                    )));
                };
                Ok((format!("{prefix}{name}"), self.entry(name, t)?))
            })
            .collect()
    }

    fn corrupt(&self, message: String) -> WeightError {
        WeightError::Corrupt {
            path: self.path.clone(),
            message,
        }
    }

    fn entry(&self, name: &str, t: &TensorRef) -> Result<TensorEntry, WeightError> {
        let dtype = t.storage.dtype.ok_or_else(|| WeightError::Dtype {
            name: name.to_string(),
            path: self.path.clone(),
            dtype: t.storage.type_name.clone(),
        })?;
        let size = dtype_size(dtype) as u64;
        let &(start, stored_len) = self.storages.get(&t.storage.key).ok_or_else(|| {
            self.corrupt(format!(
                "tensor `{name}`: storage data/{} is missing from the archive",
                t.storage.key
            ))
        })?;
        if stored_len < t.storage.numel * size {
            return Err(self.corrupt(format!(
                "tensor `{name}`: storage data/{} holds {stored_len} bytes, {} elements of {} need {}",
                t.storage.key,
                t.storage.numel,
                t.storage.type_name,
                t.storage.numel * size
            )));
        }
        if t.shape.len() != t.stride.len() {
            return Err(self.corrupt(format!("tensor `{name}`: shape and stride ranks differ")));
        }
        let numel: u64 = t.shape.iter().map(|&d| d as u64).product();
        // Elements spanned from the first to the last one (strides may skip or repeat).
        let span = if numel == 0 {
            0
        } else {
            1 + t
                .shape
                .iter()
                .zip(&t.stride)
                .map(|(&d, &s)| (d as u64 - 1) * s as u64)
                .sum::<u64>()
        };
        if t.offset + span > t.storage.numel {
            return Err(self.corrupt(format!(
                "tensor `{name}`: elements {}..{} exceed its storage of {}",
                t.offset,
                t.offset + span,
                t.storage.numel
            )));
        }
        let strides = (!is_contiguous(&t.shape, &t.stride)).then(|| t.stride.clone());
        Ok(TensorEntry {
            file: self.path.clone(),
            dtype,
            shape: t.shape.clone(),
            offset: start + t.offset * size,
            len: if strides.is_some() {
                span * size
            } else {
                numel * size
            },
            strides,
        })
    }
}

/// Row-major strides (dimensions of size 1 may carry any stride).
fn is_contiguous(shape: &[usize], stride: &[usize]) -> bool {
    let mut expected = 1;
    for (&d, &s) in shape.iter().zip(stride).rev() {
        if d != 1 && s != expected {
            return false;
        }
        expected *= d;
    }
    true
}

// ---- zip ------------------------------------------------------------------------------------

const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;

fn le_u16(b: &[u8], at: usize) -> u64 {
    u16::from_le_bytes([b[at], b[at + 1]]) as u64
}
fn le_u32(b: &[u8], at: usize) -> u64 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as u64
}
fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Name → (data offset, length) of every record of a stored zip (zip64 included).
fn zip_records(file: &File, path: &Path) -> Result<BTreeMap<String, (u64, u64)>, WeightError> {
    let corrupt = |m: String| WeightError::Corrupt {
        path: path.to_path_buf(),
        message: m,
    };
    let read_at = |offset: u64, len: usize| -> Result<Vec<u8>, WeightError> {
        let mut buf = vec![0u8; len];
        file.read_exact_at(&mut buf, offset)
            .map_err(|e| corrupt(format!("cannot read {len} bytes at {offset}: {e}")))?;
        Ok(buf)
    };
    let file_len = file
        .metadata()
        .map_err(|e| WeightError::Io {
            path: path.to_path_buf(),
            source: e,
        })?
        .len();

    // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
    let tail_len = file_len.min(22 + 65535);
    let tail = read_at(file_len - tail_len, tail_len as usize)?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| le_u32(&tail, i) == EOCD_SIG as u64)
        .ok_or_else(|| {
            corrupt(
                "no zip end-of-central-directory record (truncated or not a torch.save file)"
                    .into(),
            )
        })?;
    let mut count = le_u16(&tail, eocd + 10);
    let mut cd_size = le_u32(&tail, eocd + 12);
    let mut cd_offset = le_u32(&tail, eocd + 16);
    if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        if eocd < 20 || le_u32(&tail, eocd - 20) != ZIP64_LOCATOR_SIG as u64 {
            return Err(corrupt("zip64 locator missing".into()));
        }
        let z64_offset = le_u64(&tail, eocd - 20 + 8);
        let z64 = read_at(z64_offset, 56)?;
        if le_u32(&z64, 0) != ZIP64_EOCD_SIG as u64 {
            return Err(corrupt("bad zip64 end-of-central-directory record".into()));
        }
        count = le_u64(&z64, 32);
        cd_size = le_u64(&z64, 40);
        cd_offset = le_u64(&z64, 48);
    }
    if cd_offset + cd_size > file_len || cd_size > 1 << 32 {
        return Err(corrupt(format!(
            "central directory ({cd_size} bytes at {cd_offset}) exceeds the file ({file_len} bytes)"
        )));
    }
    let cd = read_at(cd_offset, cd_size as usize)?;

    let mut records = BTreeMap::new();
    let mut at = 0usize;
    for _ in 0..count {
        if at + 46 > cd.len() || le_u32(&cd, at) != CENTRAL_SIG as u64 {
            return Err(corrupt("malformed zip central directory".into()));
        }
        let method = le_u16(&cd, at + 10);
        let mut compressed = le_u32(&cd, at + 20);
        let mut size = le_u32(&cd, at + 24);
        let name_len = le_u16(&cd, at + 28) as usize;
        let extra_len = le_u16(&cd, at + 30) as usize;
        let comment_len = le_u16(&cd, at + 32) as usize;
        let mut local = le_u32(&cd, at + 42);
        let end = at + 46 + name_len + extra_len + comment_len;
        if end > cd.len() {
            return Err(corrupt("malformed zip central directory".into()));
        }
        let name = String::from_utf8_lossy(&cd[at + 46..at + 46 + name_len]).into_owned();
        // Zip64 extra field: the 64-bit values of the fields saturated above, in order.
        let mut extra = &cd[at + 46 + name_len..at + 46 + name_len + extra_len];
        while extra.len() >= 4 {
            let id = le_u16(extra, 0);
            let len = (le_u16(extra, 2) as usize).min(extra.len() - 4);
            if id == 1 {
                let mut field = &extra[4..4 + len];
                for value in [&mut size, &mut compressed, &mut local] {
                    if *value == 0xFFFF_FFFF && field.len() >= 8 {
                        *value = le_u64(field, 0);
                        field = &field[8..];
                    }
                }
            }
            extra = &extra[4 + len..];
        }
        if method != 0 {
            return Err(corrupt(format!(
                "record `{name}` is compressed (method {method}); torch.save writes stored records"
            )));
        }
        let header = read_at(local, 30)?;
        if le_u32(&header, 0) != LOCAL_SIG as u64 {
            return Err(corrupt(format!("record `{name}`: bad local header")));
        }
        let data = local + 30 + le_u16(&header, 26) + le_u16(&header, 28);
        if data + size > file_len {
            return Err(corrupt(format!(
                "record `{name}` ends at byte {} but the file has {file_len} bytes (truncated?)",
                data + size
            )));
        }
        records.insert(name, (data, size));
        at = end;
    }
    Ok(records)
}

// ---- pickle ---------------------------------------------------------------------------------

/// A restricted pickle machine (protocols 2–5 subset used by `torch.save`).
struct Unpickler<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<PyValue>,
    marks: Vec<usize>,
    memo: BTreeMap<u64, PyValue>,
}

impl<'a> Unpickler<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: BTreeMap::new(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or("unexpected end of pickle")?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn uint(&mut self, n: usize) -> Result<u64, String> {
        let b = self.take(n)?;
        Ok(b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64))
    }

    fn line(&mut self) -> Result<String, String> {
        let rest = &self.data[self.pos..];
        let n = rest
            .iter()
            .position(|&c| c == b'\n')
            .ok_or("unterminated line")?;
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.pos += n + 1;
        Ok(s)
    }

    fn utf8(&mut self, n: usize) -> Result<String, String> {
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8 string".to_string())
    }

    fn pop(&mut self) -> Result<PyValue, String> {
        self.stack
            .pop()
            .ok_or_else(|| "stack underflow".to_string())
    }

    fn pop_mark(&mut self) -> Result<Vec<PyValue>, String> {
        let mark = self.marks.pop().ok_or("no MARK")?;
        if mark > self.stack.len() {
            return Err("MARK beyond stack".into());
        }
        Ok(self.stack.split_off(mark))
    }

    fn top(&mut self) -> Result<&mut PyValue, String> {
        self.stack
            .last_mut()
            .ok_or_else(|| "stack underflow".to_string())
    }

    fn run(mut self) -> Result<PyValue, String> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    self.u8()?; // PROTO
                }
                0x95 => {
                    self.take(8)?; // FRAME
                }
                b'.' => return self.pop(),
                b'(' => self.marks.push(self.stack.len()),
                b'}' => self.stack.push(PyValue::Dict(Vec::new())),
                b']' => self.stack.push(PyValue::List(Vec::new())),
                b')' => self.stack.push(PyValue::Tuple(Vec::new())),
                b't' => {
                    let items = self.pop_mark()?;
                    self.stack.push(PyValue::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < n {
                        return Err("stack underflow".into());
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.stack.push(PyValue::Tuple(items));
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    self.stack.push(PyValue::List(items));
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    let dict = pairs(items)?;
                    self.stack.push(PyValue::Dict(dict));
                }
                b'q' => {
                    let k = self.uint(1)?;
                    self.memoize(k)?;
                }
                b'r' => {
                    let k = self.uint(4)?;
                    self.memoize(k)?;
                }
                0x94 => {
                    let k = self.memo.len() as u64;
                    self.memoize(k)?;
                }
                b'h' | b'j' => {
                    let k = self.uint(if op == b'h' { 1 } else { 4 })?;
                    let v = self.memo.get(&k).cloned().ok_or("memo key missing")?;
                    self.stack.push(v);
                }
                b'J' => {
                    let v = self.uint(4)? as u32 as i32 as i64;
                    self.stack.push(PyValue::Int(v));
                }
                b'K' => {
                    let v = self.uint(1)? as i64;
                    self.stack.push(PyValue::Int(v));
                }
                b'M' => {
                    let v = self.uint(2)? as i64;
                    self.stack.push(PyValue::Int(v));
                }
                0x8a => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    if n > 8 {
                        return Err("integer wider than 64 bits".into());
                    }
                    let mut v: i64 = 0;
                    for (i, &x) in b.iter().enumerate() {
                        v |= (x as i64) << (8 * i);
                    }
                    if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                        v -= 1i64 << (8 * n);
                    }
                    self.stack.push(PyValue::Int(v));
                }
                b'G' => {
                    let b = self.take(8)?;
                    let v = f64::from_be_bytes(b.try_into().unwrap());
                    self.stack.push(PyValue::Float(v));
                }
                b'X' => {
                    let n = self.uint(4)? as usize;
                    let s = self.utf8(n)?;
                    self.stack.push(PyValue::Str(s));
                }
                0x8c => {
                    let n = self.uint(1)? as usize;
                    let s = self.utf8(n)?;
                    self.stack.push(PyValue::Str(s));
                }
                0x8d => {
                    let n = self.uint(8)? as usize;
                    let s = self.utf8(n)?;
                    self.stack.push(PyValue::Str(s));
                }
                b'U' => {
                    let n = self.uint(1)? as usize;
                    let s = String::from_utf8_lossy(self.take(n)?).into_owned();
                    self.stack.push(PyValue::Str(s));
                }
                b'T' => {
                    let n = self.uint(4)? as usize;
                    let s = String::from_utf8_lossy(self.take(n)?).into_owned();
                    self.stack.push(PyValue::Str(s));
                }
                b'N' => self.stack.push(PyValue::None),
                0x88 => self.stack.push(PyValue::Bool(true)),
                0x89 => self.stack.push(PyValue::Bool(false)),
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.stack.push(PyValue::Global { module, name });
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (PyValue::Str(module), PyValue::Str(name)) = (module, name) else {
                        return Err("STACK_GLOBAL needs two strings".into());
                    };
                    self.stack.push(PyValue::Global { module, name });
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let value = reduce(callable, args)?;
                    self.stack.push(value);
                }
                b'b' => {
                    // BUILD: object state (OrderedDict `_metadata`, tensor hooks) is irrelevant here.
                    self.pop()?;
                }
                b's' => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    match self.top()? {
                        PyValue::Dict(items) => items.push((key, value)),
                        other => return Err(format!("SETITEM on a {}", other.type_name())),
                    }
                }
                b'u' => {
                    let items = pairs(self.pop_mark()?)?;
                    match self.top()? {
                        PyValue::Dict(d) => d.extend(items),
                        other => return Err(format!("SETITEMS on a {}", other.type_name())),
                    }
                }
                b'a' => {
                    let value = self.pop()?;
                    match self.top()? {
                        PyValue::List(l) => l.push(value),
                        other => return Err(format!("APPEND on a {}", other.type_name())),
                    }
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    match self.top()? {
                        PyValue::List(l) => l.extend(items),
                        other => return Err(format!("APPENDS on a {}", other.type_name())),
                    }
                }
                b'Q' => {
                    let pid = self.pop()?;
                    self.stack.push(persistent_load(pid)?);
                }
                other => {
                    return Err(format!(
                        "unsupported pickle opcode 0x{other:02x} at byte {}",
                        self.pos - 1
                    ))
                }
            }
        }
    }

    fn memoize(&mut self, key: u64) -> Result<(), String> {
        let v = self.stack.last().cloned().ok_or("memo of empty stack")?;
        self.memo.insert(key, v);
        Ok(())
    }
}

fn pairs(items: Vec<PyValue>) -> Result<Vec<(PyValue, PyValue)>, String> {
    if !items.len().is_multiple_of(2) {
        return Err("odd number of dict items".into());
    }
    let mut it = items.into_iter();
    let mut out = Vec::new();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Ok(out)
}

/// `('storage', torch.XStorage, key, location, numel)` → a storage reference.
fn persistent_load(pid: PyValue) -> Result<PyValue, String> {
    let PyValue::Tuple(items) = pid else {
        return Err("persistent id is not a tuple".into());
    };
    match items.as_slice() {
        [PyValue::Str(kind), PyValue::Global { name, .. }, PyValue::Str(key), _, PyValue::Int(numel)]
            if kind == "storage" =>
        {
            let dtype = match name.as_str() {
                "FloatStorage" => Some(StoredDtype::F32),
                "HalfStorage" => Some(StoredDtype::F16),
                "BFloat16Storage" => Some(StoredDtype::BF16),
                "DoubleStorage" => Some(StoredDtype::F64),
                "LongStorage" => Some(StoredDtype::I64),
                "ByteStorage" => Some(StoredDtype::U8),
                _ => None,
            };
            Ok(PyValue::Storage(StorageRef {
                dtype,
                type_name: name.clone(),
                key: key.clone(),
                numel: u64::try_from(*numel).map_err(|_| "negative storage size")?,
            }))
        }
        _ => Err("unsupported persistent id (expected a storage)".into()),
    }
}

/// The only callables a state dict needs; everything else is refused.
fn reduce(callable: PyValue, args: PyValue) -> Result<PyValue, String> {
    let PyValue::Global { module, name } = &callable else {
        return Err(format!("cannot call a {}", callable.type_name()));
    };
    let PyValue::Tuple(args) = args else {
        return Err("REDUCE arguments are not a tuple".into());
    };
    match (module.as_str(), name.as_str()) {
        ("collections", "OrderedDict") => Ok(PyValue::Dict(Vec::new())),
        ("torch._utils", "_rebuild_tensor_v2") | ("torch._utils", "_rebuild_tensor") => {
            let [PyValue::Storage(storage), PyValue::Int(offset), size, stride, ..] =
                args.as_slice()
            else {
                return Err("unexpected _rebuild_tensor_v2 arguments".into());
            };
            Ok(PyValue::Tensor(TensorRef {
                storage: storage.clone(),
                offset: u64::try_from(*offset).map_err(|_| "negative storage offset")?,
                shape: usizes(size)?,
                stride: usizes(stride)?,
            }))
        }
        ("torch._utils", "_rebuild_parameter") => match args.into_iter().next() {
            Some(t @ PyValue::Tensor(_)) => Ok(t),
            _ => Err("unexpected _rebuild_parameter arguments".into()),
        },
        _ => Err(format!(
            "refusing to call {module}.{name} (not part of a state dict)"
        )),
    }
}

fn usizes(v: &PyValue) -> Result<Vec<usize>, String> {
    match v {
        PyValue::Tuple(items) | PyValue::List(items) => items
            .iter()
            .map(|x| match x {
                PyValue::Int(i) if *i >= 0 => Ok(*i as usize),
                _ => Err("tensor size/stride is not a non-negative int".to_string()),
            })
            .collect(),
        _ => Err("tensor size/stride is not a tuple".into()),
    }
}
