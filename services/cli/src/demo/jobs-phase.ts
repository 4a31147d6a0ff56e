// npm run demo -- --jobs: the control plane on the demo's cluster. A prewarm
// puts a conversation's prompt on one worker before any request: the first
// request finds it cached. A drain takes the last worker out while a
// workload runs: every request completes (a failed one would end the demo).
import { setTimeout as sleep } from 'node:timers/promises';
import { connectRedis } from '@chunkmesh/common';
import { JobClient, type JobView, type OperatorJob, type PrewarmResult } from '@chunkmesh/jobs';
import { printTable } from '../table.ts';
import { streamChat } from './chat-client.ts';
import { type PhaseResult, runPhase } from './run-phase.ts';
import type { Conversation } from './workload.ts';

export interface JobsPhaseOptions {
  baseUrl: string;
  model: string;
  redisUrl: string;
  cluster: string;
  workerIds: string[];
  conversations: Conversation[];
  maxTokens: number;
  concurrency: number;
  log: (line: string) => void;
}

async function run(jobs: JobClient, name: OperatorJob, request: unknown): Promise<JobView> {
  const { job } = await jobs.add(name, request);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const v = await jobs.get(job.id);
    if (v && (v.state === 'completed' || v.state === 'failed')) {
      if (v.state === 'failed') throw new Error(`${name} ${job.id} failed: ${v.failedReason}`);
      return v;
    }
    if (Date.now() > deadline) throw new Error(`${name} ${job.id} did not finish in 120 s`);
    await sleep(100);
  }
}

export async function jobsPhase(o: JobsPhaseOptions): Promise<void> {
  const registry = connectRedis({ url: o.redisUrl, name: 'demo/jobs' });
  const jobs = new JobClient({ redis: { url: o.redisUrl }, registry, cluster: o.cluster });
  try {
    const [conv] = o.conversations;
    const first = o.workerIds[0];
    if (!conv || !first) throw new Error('the jobs demo needs a conversation and a worker');
    const messages = [
      { role: 'system', content: conv.system },
      { role: 'user', content: conv.userTurns[0] ?? '' },
    ];
    const tenant = `jobs/${conv.tenant}`;
    o.log(`prefix.prewarm: the first turn of a ${tenant} conversation onto ${first}`);
    const prewarm = await run(jobs, 'prefix.prewarm', { tenant, prompt: { messages }, workers: [first] });
    const prefilled = (prewarm.result as PrewarmResult).workers[0];
    const answer = await streamChat(o.baseUrl, {
      model: o.model,
      messages,
      max_tokens: o.maxTokens,
      temperature: 0,
      tenant,
    });

    const drained = o.workerIds[o.workerIds.length - 1] as string;
    let drain: JobView | undefined;
    let load: PhaseResult | undefined;
    if (o.workerIds.length > 1) {
      o.log(`worker.drain: ${drained}, under a workload of ${o.conversations.length} conversations`);
      const loading = runPhase({
        baseUrl: o.baseUrl,
        model: o.model,
        policy: 'prefix-aware',
        tag: 'drain',
        conversations: o.conversations,
        maxTokens: o.maxTokens,
        concurrency: o.concurrency,
        onProgress: () => undefined,
      });
      await sleep(500);
      [drain, load] = await Promise.all([run(jobs, 'worker.drain', { workerId: drained }), loading]);
    }

    console.log('\ncontrol plane (BullMQ jobs)\n');
    printTable(
      ['job', 'state', 'attempts', 'what it did'],
      [
        [
          'prefix.prewarm',
          prewarm.state,
          prewarm.attemptsMade,
          `${prefilled?.chunks ?? 0} chunks of ${prefilled?.promptTokens ?? 0} prompt tokens onto ${first}; ` +
            `the first request found ${answer.cachedTokens} of ${answer.promptTokens} cached`,
        ],
        ...(drain && load
          ? [
              [
                'worker.drain',
                drain.state,
                drain.attemptsMade,
                `${drained} drained and deregistered; ${load.requests} requests under way all completed`,
              ],
            ]
          : []),
      ],
    );
  } finally {
    await jobs.close();
    registry.disconnect();
  }
}
