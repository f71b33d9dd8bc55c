//! The embedded templates compiled at build time: a compact binary
//! encoding of the `tera::Template`s that [`super::super::parse`] gives,
//! written by `build.rs` (which includes this file) and read back by the
//! binary instead of parsing the templates at every run.
//!
//! The encoding is tagged: every enum of `tera::ast` is written as one tag
//! byte followed by its fields, every struct as its fields in order,
//! lengths and integers as LEB128 varints, strings as their length and
//! their UTF-8 bytes, maps sorted by key (so a build writes the same bytes
//! every time). The encoder destructures every struct and matches every
//! variant without a wildcard: a Tera release that adds a construct or a
//! field fails to build instead of encoding something else. The decoder
//! refuses any tag it does not know.
//!
//! The file: [`MAGIC`], the number of templates, then each template's name
//! and encoded length, then the encoded templates in the same order, so a
//! run decodes only the templates it needs.

use std::collections::HashMap;

use tera::Template;
use tera::ast::{
  Block, Expr, ExprVal, FilterSection, Forloop, FunctionCall, If, In, LogicExpr, LogicOperator,
  MacroCall, MacroDefinition, MathExpr, MathOperator, Node, Set, StringConcat, Test, WS,
};

/// The first bytes of the file, with the version of the encoding.
pub(crate) const MAGIC: &[u8; 8] = b"oitera\x00\x01";

/// The tag bytes of each enum's variants.
mod tag {
  pub(super) mod node {
    pub(crate) const SUPER: u8 = 0;
    pub(crate) const TEXT: u8 = 1;
    pub(crate) const VARIABLE_BLOCK: u8 = 2;
    pub(crate) const MACRO_DEFINITION: u8 = 3;
    pub(crate) const EXTENDS: u8 = 4;
    pub(crate) const INCLUDE: u8 = 5;
    pub(crate) const IMPORT_MACRO: u8 = 6;
    pub(crate) const SET: u8 = 7;
    pub(crate) const RAW: u8 = 8;
    pub(crate) const FILTER_SECTION: u8 = 9;
    pub(crate) const BLOCK: u8 = 10;
    pub(crate) const FORLOOP: u8 = 11;
    pub(crate) const IF: u8 = 12;
    pub(crate) const BREAK: u8 = 13;
    pub(crate) const CONTINUE: u8 = 14;
    pub(crate) const COMMENT: u8 = 15;
  }
  pub(super) mod value {
    pub(crate) const STRING: u8 = 0;
    pub(crate) const INT: u8 = 1;
    pub(crate) const FLOAT: u8 = 2;
    pub(crate) const BOOL: u8 = 3;
    pub(crate) const IDENT: u8 = 4;
    pub(crate) const MATH: u8 = 5;
    pub(crate) const LOGIC: u8 = 6;
    pub(crate) const TEST: u8 = 7;
    pub(crate) const MACRO_CALL: u8 = 8;
    pub(crate) const FUNCTION_CALL: u8 = 9;
    pub(crate) const ARRAY: u8 = 10;
    pub(crate) const STRING_CONCAT: u8 = 11;
    pub(crate) const IN: u8 = 12;
  }
  pub(super) mod math {
    pub(crate) const ADD: u8 = 0;
    pub(crate) const SUB: u8 = 1;
    pub(crate) const MUL: u8 = 2;
    pub(crate) const DIV: u8 = 3;
    pub(crate) const MODULO: u8 = 4;
  }
  pub(super) mod logic {
    pub(crate) const GT: u8 = 0;
    pub(crate) const GTE: u8 = 1;
    pub(crate) const LT: u8 = 2;
    pub(crate) const LTE: u8 = 3;
    pub(crate) const EQ: u8 = 4;
    pub(crate) const NOT_EQ: u8 = 5;
    pub(crate) const AND: u8 = 6;
    pub(crate) const OR: u8 = 7;
  }
}

/// Encodes `templates` (name, parsed template) as the file [`index`] reads.
#[cfg_attr(not(test), allow(dead_code, reason = "build.rs encodes"))]
pub(crate) fn encode_all(templates: &[(String, Template)]) -> Vec<u8> {
  let bodies: Vec<Vec<u8>> = templates
    .iter()
    .map(|(_, template)| {
      let mut writer = Writer::default();
      writer.template(template);
      writer.out
    })
    .collect();
  let mut writer = Writer::default();
  writer.out.extend_from_slice(MAGIC);
  writer.len(templates.len());
  for ((name, _), body) in templates.iter().zip(&bodies) {
    writer.str(name);
    writer.len(body.len());
  }
  for body in &bodies {
    writer.out.extend_from_slice(body);
  }
  writer.out
}

#[derive(Default)]
#[cfg_attr(not(test), allow(dead_code, reason = "build.rs encodes"))]
struct Writer {
  out: Vec<u8>,
}

#[cfg_attr(not(test), allow(dead_code, reason = "build.rs encodes"))]
impl Writer {
  fn uint(&mut self, mut value: u64) {
    loop {
      let byte = (value & 0x7f) as u8;
      value >>= 7;
      if value == 0 {
        self.out.push(byte);
        return;
      }
      self.out.push(byte | 0x80);
    }
  }

  fn len(&mut self, len: usize) {
    self.uint(len as u64);
  }

  fn int(&mut self, value: i64) {
    // Zigzag: small negative numbers stay short.
    self.uint(((value << 1) ^ (value >> 63)) as u64);
  }

  fn bool(&mut self, value: bool) {
    self.out.push(u8::from(value));
  }

  fn str(&mut self, text: &str) {
    self.len(text.len());
    self.out.extend_from_slice(text.as_bytes());
  }

  fn option_str(&mut self, text: Option<&String>) {
    self.bool(text.is_some());
    if let Some(text) = text {
      self.str(text);
    }
  }

  fn strs(&mut self, texts: &[String]) {
    self.len(texts.len());
    for text in texts {
      self.str(text);
    }
  }

  /// A map's entries sorted by key.
  fn map<V>(&mut self, map: &HashMap<String, V>, mut value: impl FnMut(&mut Self, &V)) {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    self.len(entries.len());
    for (key, entry) in entries {
      self.str(key);
      value(self, entry);
    }
  }

  fn template(&mut self, template: &Template) {
    let Template {
      name,
      path,
      ast,
      from_extend,
      macros,
      imported_macro_files,
      parent,
      blocks,
      parents,
      blocks_definitions,
    } = template;
    self.str(name);
    self.option_str(path.as_ref());
    self.nodes(ast);
    self.bool(*from_extend);
    self.map(macros, Self::macro_definition);
    self.len(imported_macro_files.len());
    for (file, namespace) in imported_macro_files {
      self.str(file);
      self.str(namespace);
    }
    self.option_str(parent.as_ref());
    self.map(blocks, Self::block);
    self.strs(parents);
    self.map(blocks_definitions, |writer, definitions| {
      writer.len(definitions.len());
      for (template, block) in definitions {
        writer.str(template);
        writer.block(block);
      }
    });
  }

  fn ws(&mut self, ws: WS) {
    let WS { left, right } = ws;
    self.out.push(u8::from(left) | u8::from(right) << 1);
  }

  fn nodes(&mut self, nodes: &[Node]) {
    self.len(nodes.len());
    for node in nodes {
      self.node(node);
    }
  }

  fn option_nodes(&mut self, nodes: Option<&Vec<Node>>) {
    self.bool(nodes.is_some());
    if let Some(nodes) = nodes {
      self.nodes(nodes);
    }
  }

  fn node(&mut self, node: &Node) {
    use tag::node as t;
    match node {
      Node::Super => self.out.push(t::SUPER),
      Node::Text(text) => {
        self.out.push(t::TEXT);
        self.str(text);
      }
      Node::VariableBlock(ws, expr) => {
        self.out.push(t::VARIABLE_BLOCK);
        self.ws(*ws);
        self.expr(expr);
      }
      Node::MacroDefinition(start, definition, end) => {
        self.out.push(t::MACRO_DEFINITION);
        self.ws(*start);
        self.macro_definition(definition);
        self.ws(*end);
      }
      Node::Extends(ws, name) => {
        self.out.push(t::EXTENDS);
        self.ws(*ws);
        self.str(name);
      }
      Node::Include(ws, names, ignore_missing) => {
        self.out.push(t::INCLUDE);
        self.ws(*ws);
        self.strs(names);
        self.bool(*ignore_missing);
      }
      Node::ImportMacro(ws, file, namespace) => {
        self.out.push(t::IMPORT_MACRO);
        self.ws(*ws);
        self.str(file);
        self.str(namespace);
      }
      Node::Set(ws, set) => {
        self.out.push(t::SET);
        self.ws(*ws);
        let Set { key, value, global } = set;
        self.str(key);
        self.expr(value);
        self.bool(*global);
      }
      Node::Raw(start, text, end) => {
        self.out.push(t::RAW);
        self.ws(*start);
        self.str(text);
        self.ws(*end);
      }
      Node::FilterSection(start, section, end) => {
        self.out.push(t::FILTER_SECTION);
        self.ws(*start);
        let FilterSection { filter, body } = section;
        self.function_call(filter);
        self.nodes(body);
        self.ws(*end);
      }
      Node::Block(start, block, end) => {
        self.out.push(t::BLOCK);
        self.ws(*start);
        self.block(block);
        self.ws(*end);
      }
      Node::Forloop(start, forloop, end) => {
        self.out.push(t::FORLOOP);
        self.ws(*start);
        let Forloop {
          key,
          value,
          container,
          body,
          empty_body,
        } = forloop;
        self.option_str(key.as_ref());
        self.str(value);
        self.expr(container);
        self.nodes(body);
        self.option_nodes(empty_body.as_ref());
        self.ws(*end);
      }
      Node::If(condition, end) => {
        self.out.push(t::IF);
        let If {
          conditions,
          otherwise,
        } = condition;
        self.len(conditions.len());
        for (ws, expr, body) in conditions {
          self.ws(*ws);
          self.expr(expr);
          self.nodes(body);
        }
        self.bool(otherwise.is_some());
        if let Some((ws, body)) = otherwise {
          self.ws(*ws);
          self.nodes(body);
        }
        self.ws(*end);
      }
      Node::Break(ws) => {
        self.out.push(t::BREAK);
        self.ws(*ws);
      }
      Node::Continue(ws) => {
        self.out.push(t::CONTINUE);
        self.ws(*ws);
      }
      Node::Comment(ws, text) => {
        self.out.push(t::COMMENT);
        self.ws(*ws);
        self.str(text);
      }
    }
  }

  fn macro_definition(&mut self, definition: &MacroDefinition) {
    let MacroDefinition { name, args, body } = definition;
    self.str(name);
    self.map(args, |writer, default| {
      writer.bool(default.is_some());
      if let Some(default) = default {
        writer.expr(default);
      }
    });
    self.nodes(body);
  }

  fn block(&mut self, block: &Block) {
    let Block { name, body } = block;
    self.str(name);
    self.nodes(body);
  }

  fn function_call(&mut self, call: &FunctionCall) {
    let FunctionCall { name, args } = call;
    self.str(name);
    self.map(args, Self::expr);
  }

  fn exprs(&mut self, exprs: &[Expr]) {
    self.len(exprs.len());
    for expr in exprs {
      self.expr(expr);
    }
  }

  fn expr(&mut self, expr: &Expr) {
    let Expr {
      val,
      negated,
      filters,
    } = expr;
    self.value(val);
    self.bool(*negated);
    self.len(filters.len());
    for filter in filters {
      self.function_call(filter);
    }
  }

  fn value(&mut self, value: &ExprVal) {
    use tag::value as t;
    match value {
      ExprVal::String(text) => {
        self.out.push(t::STRING);
        self.str(text);
      }
      ExprVal::Int(int) => {
        self.out.push(t::INT);
        self.int(*int);
      }
      ExprVal::Float(float) => {
        self.out.push(t::FLOAT);
        self.out.extend_from_slice(&float.to_bits().to_le_bytes());
      }
      ExprVal::Bool(boolean) => {
        self.out.push(t::BOOL);
        self.bool(*boolean);
      }
      ExprVal::Ident(name) => {
        self.out.push(t::IDENT);
        self.str(name);
      }
      ExprVal::Math(math) => {
        self.out.push(t::MATH);
        let MathExpr { lhs, rhs, operator } = math;
        self.expr(lhs);
        self.expr(rhs);
        self.out.push(match operator {
          MathOperator::Add => tag::math::ADD,
          MathOperator::Sub => tag::math::SUB,
          MathOperator::Mul => tag::math::MUL,
          MathOperator::Div => tag::math::DIV,
          MathOperator::Modulo => tag::math::MODULO,
        });
      }
      ExprVal::Logic(logic) => {
        self.out.push(t::LOGIC);
        let LogicExpr { lhs, rhs, operator } = logic;
        self.expr(lhs);
        self.expr(rhs);
        self.out.push(match operator {
          LogicOperator::Gt => tag::logic::GT,
          LogicOperator::Gte => tag::logic::GTE,
          LogicOperator::Lt => tag::logic::LT,
          LogicOperator::Lte => tag::logic::LTE,
          LogicOperator::Eq => tag::logic::EQ,
          LogicOperator::NotEq => tag::logic::NOT_EQ,
          LogicOperator::And => tag::logic::AND,
          LogicOperator::Or => tag::logic::OR,
        });
      }
      ExprVal::Test(test) => {
        self.out.push(t::TEST);
        let Test {
          ident,
          negated,
          name,
          args,
        } = test;
        self.str(ident);
        self.bool(*negated);
        self.str(name);
        self.exprs(args);
      }
      ExprVal::MacroCall(call) => {
        self.out.push(t::MACRO_CALL);
        let MacroCall {
          namespace,
          name,
          args,
        } = call;
        self.str(namespace);
        self.str(name);
        self.map(args, Self::expr);
      }
      ExprVal::FunctionCall(call) => {
        self.out.push(t::FUNCTION_CALL);
        self.function_call(call);
      }
      ExprVal::Array(items) => {
        self.out.push(t::ARRAY);
        self.exprs(items);
      }
      ExprVal::StringConcat(concat) => {
        self.out.push(t::STRING_CONCAT);
        let StringConcat { values } = concat;
        self.len(values.len());
        for value in values {
          self.value(value);
        }
      }
      ExprVal::In(test) => {
        self.out.push(t::IN);
        let In { lhs, rhs, negated } = test;
        self.expr(lhs);
        self.expr(rhs);
        self.bool(*negated);
      }
    }
  }
}

/// Why the compiled templates cannot be read (only a damaged build gives
/// one).
#[derive(Debug)]
pub(crate) struct Damaged {
  /// The byte offset where decoding stopped.
  pub(crate) at: usize,
  pub(crate) what: &'static str,
}

impl std::fmt::Display for Damaged {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(
      f,
      "the compiled templates are damaged at byte {}: {}",
      self.at, self.what
    )
  }
}

type Decoded<T> = Result<T, Damaged>;

/// The templates of a file [`encode_all`] wrote, as (name, encoded
/// template), in the order they were written.
pub(crate) fn index(bytes: &[u8]) -> Decoded<Vec<(&str, &[u8])>> {
  let mut reader = Reader { bytes, at: 0 };
  if reader.take(MAGIC.len())? != MAGIC {
    return Err(reader.damaged("not compiled templates of this version"));
  }
  let count = reader.len()?;
  let mut entries = Vec::with_capacity(count);
  for _ in 0..count {
    let name = reader.str()?;
    let len = reader.len()?;
    entries.push((name, len));
  }
  let mut templates = Vec::with_capacity(count);
  for (name, len) in entries {
    templates.push((name, reader.take(len)?));
  }
  if reader.at != bytes.len() {
    return Err(reader.damaged("bytes after the last template"));
  }
  Ok(templates)
}

/// Decodes one template [`index`] listed.
pub(crate) fn decode(bytes: &[u8]) -> Decoded<Template> {
  let mut reader = Reader { bytes, at: 0 };
  let template = reader.template()?;
  if reader.at != bytes.len() {
    return Err(reader.damaged("bytes after the template"));
  }
  Ok(template)
}

struct Reader<'a> {
  bytes: &'a [u8],
  at: usize,
}

impl<'a> Reader<'a> {
  fn damaged(&self, what: &'static str) -> Damaged {
    Damaged { at: self.at, what }
  }

  fn take(&mut self, len: usize) -> Decoded<&'a [u8]> {
    let end = self
      .at
      .checked_add(len)
      .filter(|end| *end <= self.bytes.len())
      .ok_or_else(|| self.damaged("ends early"))?;
    let taken = &self.bytes[self.at..end];
    self.at = end;
    Ok(taken)
  }

  fn byte(&mut self) -> Decoded<u8> {
    Ok(self.take(1)?[0])
  }

  fn uint(&mut self) -> Decoded<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
      let byte = self.byte()?;
      value |= u64::from(byte & 0x7f) << shift;
      if byte & 0x80 == 0 {
        return Ok(value);
      }
    }
    Err(self.damaged("a number too long"))
  }

  fn len(&mut self) -> Decoded<usize> {
    let len = self.uint()?;
    // A length never exceeds what is left to read, so a damaged one
    // cannot make a huge allocation.
    usize::try_from(len)
      .ok()
      .filter(|len| *len <= self.bytes.len() - self.at)
      .ok_or_else(|| self.damaged("a length past the end"))
  }

  fn int(&mut self) -> Decoded<i64> {
    let zigzag = self.uint()?;
    Ok((zigzag >> 1) as i64 ^ -((zigzag & 1) as i64))
  }

  fn bool(&mut self) -> Decoded<bool> {
    match self.byte()? {
      0 => Ok(false),
      1 => Ok(true),
      _ => Err(self.damaged("a boolean that is neither 0 nor 1")),
    }
  }

  fn str(&mut self) -> Decoded<&'a str> {
    let len = self.len()?;
    let bytes = self.take(len)?;
    std::str::from_utf8(bytes).map_err(|_| self.damaged("text that is not UTF-8"))
  }

  fn string(&mut self) -> Decoded<String> {
    self.str().map(str::to_string)
  }

  fn option_string(&mut self) -> Decoded<Option<String>> {
    Ok(if self.bool()? {
      Some(self.string()?)
    } else {
      None
    })
  }

  fn strings(&mut self) -> Decoded<Vec<String>> {
    let len = self.len()?;
    (0..len).map(|_| self.string()).collect()
  }

  fn map<V>(
    &mut self,
    mut value: impl FnMut(&mut Self) -> Decoded<V>,
  ) -> Decoded<HashMap<String, V>> {
    let len = self.len()?;
    let mut map = HashMap::with_capacity(len);
    for _ in 0..len {
      let key = self.string()?;
      let entry = value(self)?;
      if map.insert(key, entry).is_some() {
        return Err(self.damaged("a key twice in a map"));
      }
    }
    Ok(map)
  }

  fn template(&mut self) -> Decoded<Template> {
    let name = self.string()?;
    let path = self.option_string()?;
    let ast = self.nodes()?;
    let from_extend = self.bool()?;
    let macros = self.map(Self::macro_definition)?;
    let imports = self.len()?;
    let imported_macro_files = (0..imports)
      .map(|_| Ok((self.string()?, self.string()?)))
      .collect::<Decoded<_>>()?;
    let parent = self.option_string()?;
    let blocks = self.map(Self::block)?;
    let parents = self.strings()?;
    let blocks_definitions = self.map(|reader| {
      let len = reader.len()?;
      (0..len)
        .map(|_| Ok((reader.string()?, reader.block()?)))
        .collect()
    })?;
    Ok(Template {
      name,
      path,
      ast,
      from_extend,
      macros,
      imported_macro_files,
      parent,
      blocks,
      parents,
      blocks_definitions,
    })
  }

  fn ws(&mut self) -> Decoded<WS> {
    match self.byte()? {
      bits @ 0..=3 => Ok(WS {
        left: bits & 1 != 0,
        right: bits & 2 != 0,
      }),
      _ => Err(self.damaged("unknown whitespace control")),
    }
  }

  fn nodes(&mut self) -> Decoded<Vec<Node>> {
    let len = self.len()?;
    let mut nodes = Vec::with_capacity(len);
    for _ in 0..len {
      nodes.push(self.node()?);
    }
    Ok(nodes)
  }

  fn node(&mut self) -> Decoded<Node> {
    use tag::node as t;
    Ok(match self.byte()? {
      t::SUPER => Node::Super,
      t::TEXT => Node::Text(self.string()?),
      t::VARIABLE_BLOCK => Node::VariableBlock(self.ws()?, self.expr()?),
      t::MACRO_DEFINITION => {
        Node::MacroDefinition(self.ws()?, self.macro_definition()?, self.ws()?)
      }
      t::EXTENDS => Node::Extends(self.ws()?, self.string()?),
      t::INCLUDE => Node::Include(self.ws()?, self.strings()?, self.bool()?),
      t::IMPORT_MACRO => Node::ImportMacro(self.ws()?, self.string()?, self.string()?),
      t::SET => Node::Set(
        self.ws()?,
        Set {
          key: self.string()?,
          value: self.expr()?,
          global: self.bool()?,
        },
      ),
      t::RAW => Node::Raw(self.ws()?, self.string()?, self.ws()?),
      t::FILTER_SECTION => Node::FilterSection(
        self.ws()?,
        FilterSection {
          filter: self.function_call()?,
          body: self.nodes()?,
        },
        self.ws()?,
      ),
      t::BLOCK => Node::Block(self.ws()?, self.block()?, self.ws()?),
      t::FORLOOP => Node::Forloop(
        self.ws()?,
        Forloop {
          key: self.option_string()?,
          value: self.string()?,
          container: self.expr()?,
          body: self.nodes()?,
          empty_body: if self.bool()? {
            Some(self.nodes()?)
          } else {
            None
          },
        },
        self.ws()?,
      ),
      t::IF => {
        let len = self.len()?;
        let conditions = (0..len)
          .map(|_| Ok((self.ws()?, self.expr()?, self.nodes()?)))
          .collect::<Decoded<_>>()?;
        let otherwise = if self.bool()? {
          Some((self.ws()?, self.nodes()?))
        } else {
          None
        };
        Node::If(
          If {
            conditions,
            otherwise,
          },
          self.ws()?,
        )
      }
      t::BREAK => Node::Break(self.ws()?),
      t::CONTINUE => Node::Continue(self.ws()?),
      t::COMMENT => Node::Comment(self.ws()?, self.string()?),
      _ => return Err(self.damaged("unknown node")),
    })
  }

  fn macro_definition(&mut self) -> Decoded<MacroDefinition> {
    Ok(MacroDefinition {
      name: self.string()?,
      args: self.map(|reader| {
        Ok(if reader.bool()? {
          Some(reader.expr()?)
        } else {
          None
        })
      })?,
      body: self.nodes()?,
    })
  }

  fn block(&mut self) -> Decoded<Block> {
    Ok(Block {
      name: self.string()?,
      body: self.nodes()?,
    })
  }

  fn function_call(&mut self) -> Decoded<FunctionCall> {
    Ok(FunctionCall {
      name: self.string()?,
      args: self.map(Self::expr)?,
    })
  }

  fn exprs(&mut self) -> Decoded<Vec<Expr>> {
    let len = self.len()?;
    (0..len).map(|_| self.expr()).collect()
  }

  fn boxed(&mut self) -> Decoded<Box<Expr>> {
    self.expr().map(Box::new)
  }

  fn expr(&mut self) -> Decoded<Expr> {
    let val = self.value()?;
    let negated = self.bool()?;
    let len = self.len()?;
    let filters = (0..len)
      .map(|_| self.function_call())
      .collect::<Decoded<_>>()?;
    Ok(Expr {
      val,
      negated,
      filters,
    })
  }

  fn value(&mut self) -> Decoded<ExprVal> {
    use tag::value as t;
    Ok(match self.byte()? {
      t::STRING => ExprVal::String(self.string()?),
      t::INT => ExprVal::Int(self.int()?),
      t::FLOAT => {
        let bits: [u8; 8] = self
          .take(8)?
          .try_into()
          .map_err(|_| self.damaged("a float"))?;
        ExprVal::Float(f64::from_bits(u64::from_le_bytes(bits)))
      }
      t::BOOL => ExprVal::Bool(self.bool()?),
      t::IDENT => ExprVal::Ident(self.string()?),
      t::MATH => ExprVal::Math(MathExpr {
        lhs: self.boxed()?,
        rhs: self.boxed()?,
        operator: match self.byte()? {
          tag::math::ADD => MathOperator::Add,
          tag::math::SUB => MathOperator::Sub,
          tag::math::MUL => MathOperator::Mul,
          tag::math::DIV => MathOperator::Div,
          tag::math::MODULO => MathOperator::Modulo,
          _ => return Err(self.damaged("unknown math operator")),
        },
      }),
      t::LOGIC => ExprVal::Logic(LogicExpr {
        lhs: self.boxed()?,
        rhs: self.boxed()?,
        operator: match self.byte()? {
          tag::logic::GT => LogicOperator::Gt,
          tag::logic::GTE => LogicOperator::Gte,
          tag::logic::LT => LogicOperator::Lt,
          tag::logic::LTE => LogicOperator::Lte,
          tag::logic::EQ => LogicOperator::Eq,
          tag::logic::NOT_EQ => LogicOperator::NotEq,
          tag::logic::AND => LogicOperator::And,
          tag::logic::OR => LogicOperator::Or,
          _ => return Err(self.damaged("unknown logic operator")),
        },
      }),
      t::TEST => ExprVal::Test(Test {
        ident: self.string()?,
        negated: self.bool()?,
        name: self.string()?,
        args: self.exprs()?,
      }),
      t::MACRO_CALL => ExprVal::MacroCall(MacroCall {
        namespace: self.string()?,
        name: self.string()?,
        args: self.map(Self::expr)?,
      }),
      t::FUNCTION_CALL => ExprVal::FunctionCall(self.function_call()?),
      t::ARRAY => ExprVal::Array(self.exprs()?),
      t::STRING_CONCAT => {
        let len = self.len()?;
        ExprVal::StringConcat(StringConcat {
          values: (0..len).map(|_| self.value()).collect::<Decoded<_>>()?,
        })
      }
      t::IN => ExprVal::In(In {
        lhs: self.boxed()?,
        rhs: self.boxed()?,
        negated: self.bool()?,
      }),
      _ => return Err(self.damaged("unknown expression")),
    })
  }
}
