// The shapes of @huggingface/jinja's syntax tree that the compiler reads
// (compile-jinja.ts). The package exports its parser's output only as
// `Template.parsed: Program`, not the node classes, so these are written from
// the nodes' fields; a node of any other `type` is met as `JinjaNode` and
// left to the interpreter.

export interface JinjaNode {
  type: string;
}

export interface ProgramNode extends JinjaNode {
  body: JinjaNode[];
}

export interface LiteralNode<T> extends JinjaNode {
  value: T;
}

export interface IdentifierNode extends JinjaNode {
  type: 'Identifier';
  value: string;
}

export interface IfNode extends JinjaNode {
  test: JinjaNode;
  body: JinjaNode[];
  alternate: JinjaNode[];
}

export interface ForNode extends JinjaNode {
  loopvar: JinjaNode;
  iterable: JinjaNode;
  body: JinjaNode[];
  defaultBlock: JinjaNode[];
}

export interface SetNode extends JinjaNode {
  assignee: JinjaNode;
  value: JinjaNode | null;
  body: JinjaNode[];
}

export interface MemberNode extends JinjaNode {
  object: JinjaNode;
  property: JinjaNode;
  computed: boolean;
}

export interface SliceNode extends JinjaNode {
  start?: JinjaNode;
  stop?: JinjaNode;
  step?: JinjaNode;
}

export interface CallNode extends JinjaNode {
  callee: JinjaNode;
  args: JinjaNode[];
}

export interface KeywordArgumentNode extends JinjaNode {
  key: IdentifierNode;
  value: JinjaNode;
}

export interface OperatorNode extends JinjaNode {
  operator: { value: string };
}

export interface BinaryNode extends OperatorNode {
  left: JinjaNode;
  right: JinjaNode;
}

export interface UnaryNode extends OperatorNode {
  argument: JinjaNode;
}

export interface FilterNode extends JinjaNode {
  operand: JinjaNode;
  filter: JinjaNode;
}

export interface TestNode extends JinjaNode {
  operand: JinjaNode;
  negate: boolean;
  test: IdentifierNode;
}

export interface SelectNode extends JinjaNode {
  lhs: JinjaNode;
  test: JinjaNode;
}

export interface TernaryNode extends JinjaNode {
  condition: JinjaNode;
  trueExpr: JinjaNode;
  falseExpr?: JinjaNode;
}
