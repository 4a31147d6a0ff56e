// A realistic mixed chat workload, deterministic from a seed: several tenants,
// each with its own long system prompt; multi-turn sessions whose every turn
// resends the conversation so far; and one-off prompts that share nothing.

export interface WorkloadShape {
  tenants: number;
  sessionsPerTenant: number;
  turns: number;
  oneOffs: number;
  systemWords: number;
  userWords: number;
  seed: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A conversation: turns are sent in order, each after the previous answer arrived. */
export interface Conversation {
  tenant: string;
  sessionId: string;
  system: string;
  userTurns: string[];
}

const WORDS = (
  'account answer approve archive balance billing branch budget cancel capture change channel charge check ' +
  'claim client close code confirm contract credit customer data date debit delivery deposit detail device ' +
  'discount document email error estimate export fee file filter form fund guide history invoice issue item ' +
  'label ledger limit link list loan lock login manage merchant message method model monthly note notice ' +
  'number offer order owner package partner password payment pending period plan policy price product ' +
  'profile quote rate receipt record refund region renew report request reset return review risk route rule ' +
  'schedule search secure service session setting shipment status store subscription summary support tax ' +
  'team ticket token total transfer update upgrade usage user verify wallet warranty window'
).split(' ');

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function sentence(next: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' ');
}

export function buildWorkload(shape: WorkloadShape): {
  conversations: Conversation[];
  oneOffs: Conversation[];
} {
  const next = rng(shape.seed);
  const conversations: Conversation[] = [];
  for (let t = 0; t < shape.tenants; t++) {
    const tenant = `tenant-${t}`;
    const system = `You are the assistant of company ${t}. Policies: ${sentence(next, shape.systemWords)}.`;
    for (let s = 0; s < shape.sessionsPerTenant; s++) {
      conversations.push({
        tenant,
        sessionId: `${tenant}-session-${s}`,
        system,
        userTurns: Array.from({ length: shape.turns }, () => sentence(next, shape.userWords)),
      });
    }
  }
  const oneOffs = Array.from({ length: shape.oneOffs }, (_, i) => ({
    tenant: 'one-off',
    sessionId: '',
    system: `Answer briefly. ${sentence(next, 8)}`,
    userTurns: [sentence(next, shape.userWords * 2)],
    id: i,
  }));
  return { conversations, oneOffs };
}
