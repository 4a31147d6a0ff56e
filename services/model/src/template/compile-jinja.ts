// A chat template's syntax tree (as @huggingface/jinja parses it) compiled
// into closures over plain values (jinja-values.ts), for the statements and
// expressions chat templates use: text, {{ }}, if, for (with `loop`, a
// filter, an else block), set (a name, a namespace's attribute, a block),
// and / or / not, comparisons, integer arithmetic, `in`, string `+` and `~`,
// member access, slices, namespace(), the string methods strip, lstrip,
// rstrip, upper, lower, startswith, endswith and split, a mapping's items,
// keys, values and get, the filters trim, length, list, upper, lower, safe,
// tojson (without arguments), selectattr and rejectattr, and the tests. The
// interpreter renders a twenty-message chat in about 200 µs; this in 15.
//
// Exactness is the interpreter's own behaviour, not Python Jinja's (e.g.
// `strip('\n')` trims every kind of whitespace there, so it does here). A
// template holding a statement this does not compile (macro, call, filter
// blocks, break, continue) is not compiled; any other expression or value
// this does not model throws Unmodelled when a render reaches it, and the
// caller renders that request with the interpreter instead (chat-template.ts).
// The caller's data must be a tree (no object reached twice), as JSON gives,
// since containers compare by identity.

import type {
  BinaryNode,
  CallNode,
  FilterNode,
  ForNode,
  IdentifierNode,
  IfNode,
  JinjaNode,
  KeywordArgumentNode,
  LiteralNode,
  MemberNode,
  ProgramNode,
  SelectNode,
  SetNode,
  SliceNode,
  TernaryNode,
  TestNode,
  UnaryNode,
} from './jinja-nodes.ts';
import {
  GlobalFunction,
  isInteger,
  isMapping,
  looselyEqual,
  Namespace,
  output,
  primitiveText,
  sliceOf,
  toJson,
  truthy,
  unmodelled,
} from './jinja-values.ts';

/** The interpreter's environments: a variable is set in the innermost, looked up outwards. */
class Scope {
  readonly vars = new Map<string, unknown>();
  constructor(readonly parent?: Scope) {}

  lookup(name: string): unknown {
    // every interpreter environment declares `namespace` itself, so the innermost one answers
    if (name === 'namespace') return this.vars.has(name) ? this.vars.get(name) : NAMESPACE;
    for (let s: Scope | undefined = this; s; s = s.parent) {
      if (s.vars.has(name)) return s.vars.get(name);
    }
    return undefined;
  }
}

type Expr = (s: Scope) => unknown;
type Block = (s: Scope) => string;

const NAMESPACE = new GlobalFunction('namespace');
/** What the interpreter declares before the caller's variables (setupGlobals). */
const GLOBALS: [string, unknown][] = [
  ['false', false],
  ['true', true],
  ['none', null],
  ['raise_exception', new GlobalFunction('raise_exception')],
  ['range', new GlobalFunction('range')],
  ['strftime_now', new GlobalFunction('strftime_now')],
  ['True', true],
  ['False', false],
  ['None', null],
];
/** Attributes every mapping answers with a method when it has no such key of its own. */
const MAPPING_METHODS = new Set(['get', 'items', 'keys', 'values', 'dictsort']);
/** A string's methods besides `length` (which is an attribute). */
const STRING_METHODS = new Set([
  'upper',
  'lower',
  'strip',
  'title',
  'capitalize',
  'rstrip',
  'lstrip',
  'startswith',
  'endswith',
  'split',
  'replace',
]);

class NotCompiled extends Error {}

export type CompiledTemplate = (variables: Record<string, unknown>) => string;

/** The compiled template, or undefined when it holds a statement this does not compile. */
export function compileJinja(program: ProgramNode): CompiledTemplate | undefined {
  let body: Block;
  try {
    body = block(program.body);
  } catch (err) {
    if (err instanceof NotCompiled) return undefined;
    throw err;
  }
  return (variables) => {
    const global = new Scope();
    for (const [name, value] of GLOBALS) global.vars.set(name, value);
    for (const [name, value] of Object.entries(variables)) {
      // the interpreter refuses to declare a global twice
      if (global.vars.has(name)) unmodelled();
      global.vars.set(name, value);
    }
    return body(global);
  };
}

function block(nodes: readonly JinjaNode[]): Block {
  const parts = nodes.map(statement);
  if (parts.length === 1) return parts[0] as Block;
  return (s) => {
    let out = '';
    for (const part of parts) out += part(s);
    return out;
  };
}

function statement(node: JinjaNode): Block {
  switch (node.type) {
    case 'StringLiteral': {
      const text = (node as LiteralNode<string>).value;
      return () => text;
    }
    case 'Comment':
      return () => '';
    case 'If':
      return ifStatement(node as IfNode);
    case 'For':
      return forStatement(node as ForNode);
    case 'Set':
      return setStatement(node as SetNode);
    case 'Macro':
    case 'CallStatement':
    case 'FilterStatement':
    case 'Break':
    case 'Continue':
      throw new NotCompiled(node.type);
    default: {
      const value = expression(node);
      return (s) => output(value(s));
    }
  }
}

function ifStatement(node: IfNode): Block {
  const test = expression(node.test);
  const body = block(node.body);
  const alternate = block(node.alternate);
  return (s) => (truthy(test(s)) ? body(s) : alternate(s));
}

function forStatement(node: ForNode): Block {
  const bind = loopBinding(node.loopvar);
  const filtered = node.iterable.type === 'SelectExpression';
  const iterable = expression(filtered ? (node.iterable as SelectNode).lhs : node.iterable);
  const filter = filtered ? expression((node.iterable as SelectNode).test) : undefined;
  const body = block(node.body);
  const otherwise = block(node.defaultBlock);
  return (outer) => {
    const scope = new Scope(outer);
    const source = iterable(scope);
    let items: unknown[];
    if (Array.isArray(source)) items = source;
    else if (isMapping(source)) items = Object.keys(source);
    else return unmodelled();
    if (filter) {
      items = items.filter((item) => {
        const test = new Scope(scope);
        bind(test, item);
        return truthy(filter(test));
      });
    }
    let out = '';
    const n = items.length;
    for (let i = 0; i < n; i++) {
      scope.vars.set('loop', {
        index: i + 1,
        index0: i,
        revindex: n - i,
        revindex0: n - i - 1,
        first: i === 0,
        last: i === n - 1,
        length: n,
        previtem: i > 0 ? items[i - 1] : undefined,
        nextitem: i < n - 1 ? items[i + 1] : undefined,
      });
      bind(scope, items[i]);
      out += body(scope);
    }
    return n === 0 ? otherwise(scope) : out;
  };
}

/** Sets a loop's variable, or unpacks an item into its variables (`for key, value in ...`). */
function loopBinding(loopvar: JinjaNode): (s: Scope, item: unknown) => void {
  if (loopvar.type === 'Identifier') {
    const name = (loopvar as IdentifierNode).value;
    return (s, item) => s.vars.set(name, item);
  }
  const targets = loopvar.type === 'TupleLiteral' ? (loopvar as LiteralNode<JinjaNode[]>).value : [];
  if (targets.length === 0 || targets.some((n) => n.type !== 'Identifier')) return () => unmodelled();
  const names = targets.map((n) => (n as IdentifierNode).value);
  return (s, item) => {
    if (!Array.isArray(item) || item.length !== names.length) return unmodelled();
    for (const [i, name] of names.entries()) s.vars.set(name, item[i]);
  };
}

function setStatement(node: SetNode): Block {
  const value: Expr = node.value ? expression(node.value) : block(node.body);
  const target = node.assignee;
  if (target.type === 'Identifier') {
    const name = (target as IdentifierNode).value;
    return (s) => {
      s.vars.set(name, value(s));
      return '';
    };
  }
  if (target.type === 'MemberExpression') {
    const member = target as MemberNode;
    const object = expression(member.object);
    const attribute =
      member.property.type === 'Identifier' ? (member.property as IdentifierNode).value : undefined;
    return (s) => {
      const v = value(s);
      const ns = object(s);
      if (!(ns instanceof Namespace) || attribute === undefined) return unmodelled();
      ns.entries.set(attribute, v);
      return '';
    };
  }
  return () => unmodelled();
}

function expression(node: JinjaNode): Expr {
  switch (node.type) {
    case 'StringLiteral':
    case 'IntegerLiteral': {
      const v = (node as LiteralNode<unknown>).value;
      return () => v;
    }
    case 'ArrayLiteral': {
      const items = (node as LiteralNode<JinjaNode[]>).value.map(expression);
      return (s) => items.map((item) => item(s));
    }
    case 'Identifier': {
      const name = (node as IdentifierNode).value;
      return (s) => s.lookup(name);
    }
    case 'MemberExpression':
      return member(node as MemberNode);
    case 'CallExpression':
      return call(node as CallNode);
    case 'UnaryExpression':
      return unary(node as UnaryNode);
    case 'BinaryExpression':
      return binary(node as BinaryNode);
    case 'FilterExpression':
      return filter(node as FilterNode);
    case 'TestExpression':
      return test(node as TestNode);
    case 'SelectExpression': {
      const { lhs, test: condition } = node as SelectNode;
      const value = expression(lhs);
      const when = expression(condition);
      return (s) => (truthy(when(s)) ? value(s) : undefined);
    }
    case 'Ternary': {
      const t = node as TernaryNode;
      const condition = expression(t.condition);
      const yes = expression(t.trueExpr);
      const no = t.falseExpr ? expression(t.falseExpr) : () => undefined;
      return (s) => (truthy(condition(s)) ? yes(s) : no(s));
    }
    default:
      // float, tuple and object literals, spreads: not modelled
      return () => unmodelled();
  }
}

function member(node: MemberNode): Expr {
  const object = expression(node.object);
  if (node.computed && node.property.type === 'SliceExpression') {
    const { start, stop, step } = node.property as SliceNode;
    const bound = (e: JinjaNode | undefined): Expr => (e ? expression(e) : () => undefined);
    const [from, to, by] = [bound(start), bound(stop), bound(step)];
    return (s) => {
      const target = object(s);
      const a = from(s);
      const b = to(s);
      const c = by(s);
      for (const x of [a, b, c]) if (x !== undefined && !isInteger(x)) unmodelled();
      const [i, j, k] = [a, b, c] as (number | undefined)[];
      if (Array.isArray(target)) return sliceOf(target, i, j, k);
      // a string slices by code point
      if (typeof target === 'string') return sliceOf(Array.from(target), i, j, k).join('');
      return unmodelled();
    };
  }
  let property: Expr;
  if (node.computed) property = expression(node.property);
  else {
    const key = (node.property as LiteralNode<string | number>).value;
    property = () => key;
  }
  return (s) => attribute(object(s), property(s));
}

type Container = Namespace | Record<string, unknown>;

function isContainer(v: unknown): v is Container {
  return v instanceof Namespace || isMapping(v);
}

/** A namespace's or mapping's own entry `key`: whether it has one, and its value. */
function entryOf(container: Container, key: string): [found: boolean, value: unknown] {
  if (container instanceof Namespace) return [container.entries.has(key), container.entries.get(key)];
  return Object.hasOwn(container, key) ? [true, container[key]] : [false, undefined];
}

function attribute(object: unknown, key: unknown): unknown {
  if (isContainer(object)) {
    if (typeof key !== 'string') return unmodelled();
    const [found, value] = entryOf(object, key);
    if (found) return value;
    // a namespace has no methods; a mapping's answer for a key it lacks
    return isMapping(object) && MAPPING_METHODS.has(key) ? unmodelled() : undefined;
  }
  if (Array.isArray(object) || typeof object === 'string') {
    if (typeof key === 'number') return Number.isInteger(key) ? object.at(key) : unmodelled();
    if (typeof key !== 'string') return unmodelled();
    if (key === 'length') return object.length;
    return typeof object === 'string' && STRING_METHODS.has(key) ? unmodelled() : undefined;
  }
  // numbers, booleans, none, undefined, functions have no attributes
  return typeof key === 'string' ? undefined : unmodelled();
}

function call(node: CallNode): Expr {
  const positional: Expr[] = [];
  const keywords: [string, Expr][] = [];
  for (const arg of node.args) {
    if (arg.type === 'KeywordArgumentExpression') {
      const kw = arg as KeywordArgumentNode;
      keywords.push([kw.key.value, expression(kw.value)]);
    } else if (arg.type === 'SpreadExpression' || arg.type === 'KeywordSpreadExpression') {
      return () => unmodelled();
    } else positional.push(expression(arg));
  }
  const callee = node.callee;
  if (callee.type === 'Identifier') {
    const name = (callee as IdentifierNode).value;
    return (s) => {
      if (s.lookup(name) !== NAMESPACE || positional.length > 0) return unmodelled();
      const entries = new Map<string, unknown>();
      for (const [key, value] of keywords) {
        if (entries.has(key)) unmodelled();
        entries.set(key, value(s));
      }
      return new Namespace(entries);
    };
  }
  if (callee.type !== 'MemberExpression' || keywords.length > 0) return () => unmodelled();
  const { object: receiverNode, property, computed } = callee as MemberNode;
  if (computed || property.type !== 'Identifier') return () => unmodelled();
  const receiver = expression(receiverNode);
  const name = (property as IdentifierNode).value;
  const onString = stringMethod(name);
  const onMapping = mappingMethod(name);
  return (s) => {
    const args = positional.map((arg) => arg(s));
    const self = receiver(s);
    if (typeof self === 'string') return onString(self, args);
    // a key of that name is the mapping's own attribute, and not callable
    if (isMapping(self) && !entryOf(self, name)[0]) return onMapping(self, args);
    return unmodelled();
  };
}

type MappingMethod = (self: Record<string, unknown>, args: unknown[]) => unknown;

function mappingMethod(name: string): MappingMethod {
  switch (name) {
    case 'items':
      return (self) => Object.entries(self);
    case 'keys':
      return (self) => Object.keys(self);
    case 'values':
      return (self) => Object.values(self);
    case 'get':
      return (self, args) => {
        const key = args[0];
        if (typeof key !== 'string') return unmodelled();
        const [found, value] = entryOf(self, key);
        if (found) return value;
        return args.length > 1 ? args[1] : null;
      };
    default:
      return () => unmodelled();
  }
}

type StringMethod = (self: string, args: unknown[]) => unknown;

function stringMethod(name: string): StringMethod {
  switch (name) {
    // the interpreter's strip family takes no characters: it trims whitespace whatever is passed
    case 'strip':
      return (self) => self.trim();
    case 'lstrip':
      return (self) => self.trimStart();
    case 'rstrip':
      return (self) => self.trimEnd();
    case 'upper':
      return (self) => self.toUpperCase();
    case 'lower':
      return (self) => self.toLowerCase();
    case 'startswith':
      return (self, args) => affix(args[0], (p) => self.startsWith(p));
    case 'endswith':
      return (self, args) => affix(args[0], (p) => self.endsWith(p));
    case 'split':
      return split;
    default:
      return () => unmodelled();
  }
}

function affix(pattern: unknown, matches: (p: string) => boolean): boolean {
  if (typeof pattern === 'string') return matches(pattern);
  if (!Array.isArray(pattern)) return unmodelled();
  for (const p of pattern) {
    if (typeof p !== 'string') return unmodelled();
    if (matches(p)) return true;
  }
  return false;
}

/** Python's str.split(sep=None, maxsplit=-1), as the interpreter has it. */
function split(self: string, args: unknown[]): string[] {
  // given but undefined is an error there, not the default
  const sep = args.length > 0 ? args[0] : null;
  const max = args.length > 1 ? args[1] : -1;
  if ((sep !== null && typeof sep !== 'string') || typeof max !== 'number' || !isInteger(max)) {
    return unmodelled();
  }
  if (sep === null) {
    const text = self.trimStart();
    const out: string[] = [];
    for (const m of text.matchAll(/\S+/g)) {
      if (max !== -1 && out.length >= max) {
        out.push(text.slice(m.index));
        break;
      }
      out.push(m[0]);
    }
    return out;
  }
  if (sep === '') return unmodelled();
  const parts = self.split(sep);
  if (max !== -1 && parts.length > max) parts.push(parts.splice(max).join(sep));
  return parts;
}

function unary(node: UnaryNode): Expr {
  const argument = expression(node.argument);
  const op = node.operator.value;
  if (op === 'not') return (s) => !truthy(argument(s));
  if (op !== '-' && op !== '+') return () => unmodelled();
  const sign = op === '-' ? -1 : 1;
  return (s) => {
    const v = argument(s);
    if (typeof v === 'boolean') return sign * (v ? 1 : 0);
    return isInteger(v) ? sign * v : unmodelled();
  };
}

function binary(node: BinaryNode): Expr {
  const left = expression(node.left);
  const right = expression(node.right);
  const op = node.operator.value;
  switch (op) {
    case 'and':
      return (s) => {
        const l = left(s);
        return truthy(l) ? right(s) : l;
      };
    case 'or':
      return (s) => {
        const l = left(s);
        return truthy(l) ? l : right(s);
      };
    case '==':
      return (s) => looselyEqual(left(s), right(s));
    case '!=':
      return (s) => !looselyEqual(left(s), right(s));
    default:
      return (s) => operate(op, left(s), right(s));
  }
}

/** The interpreter's other binary operators, in its order of cases. */
function operate(op: string, l: unknown, r: unknown): unknown {
  if (l === undefined || r === undefined) {
    if (r === undefined && (op === 'in' || op === 'not in')) return op === 'not in';
    return unmodelled();
  }
  if (l === null || r === null) return unmodelled();
  if (op === '~') return primitiveText(l) + primitiveText(r);
  if (typeof l === 'number' && typeof r === 'number') {
    if (!isInteger(l) || !isInteger(r)) return unmodelled();
    switch (op) {
      case '+':
        return l + r;
      case '-':
        return l - r;
      case '*':
        return l * r;
      case '%':
        return l % r;
      case '<':
        return l < r;
      case '>':
        return l > r;
      case '>=':
        return l >= r;
      case '<=':
        return l <= r;
    }
    return unmodelled();
  }
  if (Array.isArray(l) && Array.isArray(r)) return op === '+' ? l.concat(r) : unmodelled();
  if (Array.isArray(r) && (op === 'in' || op === 'not in')) {
    // the interpreter's `===` on the wrapped values: containers by identity, NaN never found
    return r.some((x) => x === l) === (op === 'in');
  }
  const lString = typeof l === 'string';
  const rString = typeof r === 'string';
  if ((lString || rString) && op === '+') return primitiveText(l) + primitiveText(r);
  if (lString && rString && (op === 'in' || op === 'not in')) return r.includes(l) === (op === 'in');
  if (lString && isMapping(r) && (op === 'in' || op === 'not in')) {
    return entryOf(r, l)[0] === (op === 'in');
  }
  return unmodelled();
}

function filter(node: FilterNode): Expr {
  const operand = expression(node.operand);
  if (node.filter.type === 'CallExpression') return filterCall(operand, node.filter as CallNode);
  if (node.filter.type !== 'Identifier') return () => unmodelled();
  const name = (node.filter as IdentifierNode).value;
  return (s) => {
    const v = operand(s);
    if (name === 'safe') return v;
    if (name === 'tojson') return toJson(v);
    if (Array.isArray(v)) {
      if (name === 'list') return v;
      if (name === 'length') return v.length;
    } else if (typeof v === 'string') {
      if (name === 'length') return v.length;
      if (name === 'trim') return v.trim();
      if (name === 'upper') return v.toUpperCase();
      if (name === 'lower') return v.toLowerCase();
      if (name === 'string' || name === 'join') return v;
    } else if (isMapping(v) && name === 'length') return Object.keys(v).length;
    return unmodelled();
  };
}

/**
 * `selectattr` / `rejectattr` (attribute, test name, value: string literals), as the interpreter
 * has them: an item without the attribute at all is never selected (so `rejectattr` keeps it),
 * whatever the test.
 */
function filterCall(operand: Expr, node: CallNode): Expr {
  const name = node.callee.type === 'Identifier' ? (node.callee as IdentifierNode).value : '';
  const args = node.args.map((a) =>
    a.type === 'StringLiteral' ? (a as LiteralNode<string>).value : undefined,
  );
  if ((name !== 'selectattr' && name !== 'rejectattr') || args.length === 0 || args.includes(undefined)) {
    return () => unmodelled();
  }
  const [attribute, testName, value] = args as string[];
  const select = name === 'selectattr';
  let check: (v: unknown) => boolean;
  if (testName === undefined) check = truthy;
  else if (testName === 'equalto' || testName === 'eq') {
    check = (v) => (value === undefined ? unmodelled() : v === value);
  } else {
    const known = testOf(testName);
    // the interpreter looks the test up before it looks at any item
    if (!known) return () => unmodelled();
    check = known;
  }
  return (s) => {
    const items = operand(s);
    if (!Array.isArray(items)) return unmodelled();
    return items.filter((item) => {
      if (!isContainer(item)) return unmodelled();
      const [found, v] = entryOf(item, attribute as string);
      return (found && check(v)) === select;
    });
  };
}

function test(node: TestNode): Expr {
  const operand = expression(node.operand);
  const check = testOf(node.test.value);
  if (!check) return () => unmodelled();
  const negate = node.negate;
  return (s) => check(operand(s)) !== negate;
}

function testOf(name: string): ((v: unknown) => boolean) | undefined {
  switch (name) {
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'callable':
      return (v) => v instanceof GlobalFunction;
    case 'odd':
      return (v) => (isInteger(v) ? v % 2 !== 0 : unmodelled());
    case 'even':
      return (v) => (isInteger(v) ? v % 2 === 0 : unmodelled());
    case 'false':
      return (v) => v === false;
    case 'true':
      return (v) => v === true;
    case 'none':
      return (v) => v === null;
    case 'string':
      return (v) => typeof v === 'string';
    case 'number':
      return (v) => typeof v === 'number';
    case 'integer':
      return isInteger;
    case 'iterable':
      return (v) => Array.isArray(v) || typeof v === 'string';
    case 'mapping':
      return isMapping;
    case 'sequence':
      return (v) => Array.isArray(v) || isMapping(v) || typeof v === 'string';
    case 'lower':
      return (v) => typeof v === 'string' && v === v.toLowerCase();
    case 'upper':
      return (v) => typeof v === 'string' && v === v.toUpperCase();
    case 'defined':
      return (v) => v !== undefined;
    case 'undefined':
      return (v) => v === undefined;
    default:
      // equalto / eq need a second operand only selectattr gives; others are unknown there
      return undefined;
  }
}
