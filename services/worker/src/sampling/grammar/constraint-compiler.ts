// Constraints compiled against the model's vocabulary, once per distinct
// constraint: XGrammar's TokenizerInfo is built from every token's bytes
// (written in the byte-level alphabet, so any tokenizer reads the same way;
// special tokens as empty strings, which XGrammar never lets text produce),
// and compiled grammars are kept in a small LRU (each holds per-token-state
// mask caches: memory is bounded by the entry count) keyed by the constraint.
import { type CheckedConstraint, InvalidArgument } from '@chunkmesh/common';
import { BYTE_LEVEL_CHARS, type Tokenizer } from '@chunkmesh/model';
import type {
  CompiledGrammar,
  GrammarCompiler,
  GrammarMatcher,
  StructuralTagFormat,
} from '@mlc-ai/web-xgrammar';
import { withDiagnostics, type XGrammar, xgrammar } from './xgrammar.ts';

/** Every id below vocabSize as XGrammar's encoded vocabulary (ids past the tokenizer's: empty, never allowed). */
function encodedVocabulary(tokenizer: Tokenizer, vocabSize: number): string[] {
  const out: string[] = [];
  for (let id = 0; id < vocabSize; id++) {
    if (id >= tokenizer.vocabSize || tokenizer.isSpecial(id)) {
      out.push('');
      continue;
    }
    let s = '';
    for (const b of tokenizer.tokenBytes(id)) s += BYTE_LEVEL_CHARS[b];
    out.push(s);
  }
  return out;
}

const SEPARATORS: [string, string] = [', ', ': '];

/** The constraint's body (without its markup) as an XGrammar structural-tag format. */
function bodyFormat(c: CheckedConstraint): StructuralTagFormat {
  if (c.regex !== undefined) return { type: 'regex', pattern: c.regex };
  if (c.choice)
    return { type: 'or', elements: c.choice.values.map((value) => ({ type: 'const_string', value })) };
  const schema = c.jsonSchema !== undefined ? JSON.parse(c.jsonSchema) : { type: 'object' };
  return { type: 'json_schema', json_schema: schema };
}

export class ConstraintCompiler {
  private readonly cache = new Map<string, Promise<CompiledGrammar>>();

  private constructor(
    private readonly xg: XGrammar,
    private readonly compiler: GrammarCompiler,
    /** Compiled grammars kept at most. */
    private readonly capacity: number,
  ) {}

  /** stopTokenIds: the model's end-of-sequence ids, the only way a finished grammar lets generation end. */
  static async create(
    tokenizer: Tokenizer,
    vocabSize: number,
    stopTokenIds: readonly number[],
    capacity = 32,
  ): Promise<ConstraintCompiler> {
    const xg = await xgrammar();
    const info = await xg.TokenizerInfo.createTokenizerInfo(
      encodedVocabulary(tokenizer, vocabSize),
      'BYTE_LEVEL',
      false,
      vocabSize,
      [...stopTokenIds],
    );
    // XGrammar's own cache is unbounded; this class keeps a bounded one instead
    const compiler = await xg.GrammarCompiler.createGrammarCompiler(info, false);
    return new ConstraintCompiler(xg, compiler, capacity);
  }

  /** `count` matchers of the constraint, each at its start (one per choice of a request). */
  async matchers(c: CheckedConstraint, count: number): Promise<GrammarMatcher[]> {
    const grammar = await this.compiled(c);
    const out: GrammarMatcher[] = [];
    for (let i = 0; i < count; i++) out.push(await this.xg.GrammarMatcher.createGrammarMatcher(grammar));
    return out;
  }

  /** Grammars compiled and kept now. */
  get size(): number {
    return this.cache.size;
  }

  private compiled(c: CheckedConstraint): Promise<CompiledGrammar> {
    const key = JSON.stringify(c);
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const pending = this.compile(c);
    this.cache.set(key, pending);
    pending.catch(() => this.cache.delete(key));
    while (this.cache.size > this.capacity) {
      const [oldest, evicted] = this.cache.entries().next().value as [string, Promise<CompiledGrammar>];
      this.cache.delete(oldest);
      // matchers made from it hold their own reference (XGrammar shares the compiled data)
      evicted.then((g) => g.dispose()).catch(() => {});
    }
    return pending;
  }

  private async compile(c: CheckedConstraint): Promise<CompiledGrammar> {
    const param = c.prefix || c.suffix ? 'tools' : 'response_format';
    try {
      return await withDiagnostics(async () => {
        if (c.regex === undefined && !c.choice) {
          const schema = c.jsonSchema ?? JSON.stringify({ type: 'object' });
          if (!c.prefix && !c.suffix)
            return this.compiler.compileJSONSchema(schema, false, -1, SEPARATORS, c.strict);
          return this.compiler.compileGrammar(await this.wrappedJson(schema, c));
        }
        const elements: StructuralTagFormat[] = [bodyFormat(c)];
        if (c.prefix) elements.unshift({ type: 'const_string', value: c.prefix });
        if (c.suffix) elements.push({ type: 'const_string', value: c.suffix });
        return await this.compiler.compileStructuralTag({
          type: 'structural_tag',
          format:
            elements.length === 1 ? (elements[0] as StructuralTagFormat) : { type: 'sequence', elements },
        });
      });
    } catch (err) {
      throw new InvalidArgument(`the constraint cannot be compiled: ${(err as Error).message}`, { param });
    }
  }

  /**
   * A JSON schema between literal markup, as EBNF: the schema's own grammar (compact, no free
   * whitespace: structural tags' JSON allows any, which an unsure model fills forever) under a
   * root that writes the prefix and suffix around it.
   */
  private async wrappedJson(schema: string, c: CheckedConstraint): Promise<string> {
    const json = await this.xg.Grammar.fromJSONSchema(schema, false, -1, SEPARATORS, c.strict);
    const rules = json.toString().replace(/^root ::=/m, 'json_body ::=');
    json.dispose();
    return `root ::= ${JSON.stringify(c.prefix)} json_body ${JSON.stringify(c.suffix)}\n${rules}`;
  }
}
