// A whole cluster on this machine: Redis (REDIS_URL, or a private
// redis-server), N workers, one router and the control plane's job runner as
// separate processes, started in order and ready when the router sees every
// worker. stop() takes them down
// in reverse, leaving no process behind.
import { RedisServer } from './local-redis.ts';
import { JOBS_MAIN, ROUTER_MAIN, ServiceProcess, WORKER_MAIN } from './service-process.ts';

export interface LocalClusterOptions {
  workers: number;
  modelDir: string;
  cluster: string;
  chunkTokens: number;
  kvCapacityTokens: number;
  policy: string;
  routerGrpcPort: number;
  routerHttpPort: number;
  /** The router's /metrics, /healthz, /readyz. */
  routerOpsPort: number;
  /** Threads per worker (the machine's cores are shared by all of them). */
  workerThreads: number;
  log: (line: string) => void;
}

export interface WorkerEndpoint {
  workerId: string;
  grpcPort: number;
  metricsPort: number;
}

export class LocalCluster {
  private router: ServiceProcess | undefined;
  private runner: ServiceProcess | undefined;
  /** The job runner's /metrics and /healthz. */
  runnerOpsPort = 0;
  routerGrpcPort = 0;
  routerHttpPort = 0;
  routerOpsPort = 0;

  private constructor(
    private readonly o: LocalClusterOptions,
    readonly redis: RedisServer,
    private readonly workerProcs: ServiceProcess[],
    readonly workers: WorkerEndpoint[],
  ) {}

  static async start(o: LocalClusterOptions): Promise<LocalCluster> {
    o.log(
      process.env.REDIS_URL ? `using Redis at ${process.env.REDIS_URL}` : 'starting a private redis-server',
    );
    const redis = await RedisServer.start();
    const procs: ServiceProcess[] = [];
    const endpoints: WorkerEndpoint[] = [];
    const cluster = new LocalCluster(o, redis, procs, endpoints);
    try {
      for (let i = 0; i < o.workers; i++) {
        o.log(`starting worker ${i + 1}/${o.workers}`);
        const { proc, ready } = await ServiceProcess.start({
          entry: WORKER_MAIN,
          name: `worker-${i}`,
          args: [
            '--model',
            o.modelDir,
            '--port',
            '0',
            '--metrics-port',
            '0',
            '--worker-id',
            `worker-${i}`,
            '--redis-url',
            redis.url,
            '--cluster',
            o.cluster,
            '--chunk-tokens',
            String(o.chunkTokens),
            '--kv-capacity-tokens',
            String(o.kvCapacityTokens),
            '--threads',
            String(o.workerThreads),
          ],
          env: {
            CHUNKMESH_LOG_LEVEL: process.env.CHUNKMESH_LOG_LEVEL ?? 'warn',
          },
        });
        procs.push(proc);
        endpoints.push({
          workerId: String(ready.workerId),
          grpcPort: Number(ready.grpcPort),
          metricsPort: Number(ready.metricsPort),
        });
      }
      await cluster.startRouter(o.policy, o.routerGrpcPort, o.routerHttpPort, o.routerOpsPort);
      await cluster.startRunner();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.routerHttpPort}`;
  }

  get opsUrl(): string {
    return `http://127.0.0.1:${this.routerOpsPort}`;
  }

  /** (Re)starts the router with a placement policy, on the same ports when it had some. */
  async startRouter(
    policy: string,
    grpcPort = this.routerGrpcPort,
    httpPort = this.routerHttpPort,
    opsPort = this.routerOpsPort,
  ): Promise<void> {
    await this.router?.stop();
    this.o.log(`starting the router (policy ${policy})`);
    const { proc, ready } = await ServiceProcess.start({
      entry: ROUTER_MAIN,
      name: 'router',
      args: [
        '--model',
        this.o.modelDir,
        '--grpc-port',
        String(grpcPort),
        '--http-port',
        String(httpPort),
        '--ops-port',
        String(opsPort),
        '--redis-url',
        this.redis.url,
        '--cluster',
        this.o.cluster,
        '--chunk-tokens',
        String(this.o.chunkTokens),
        '--policy',
        policy,
      ],
      env: {
        CHUNKMESH_LOG_LEVEL: process.env.CHUNKMESH_LOG_LEVEL ?? 'warn',
      },
    });
    this.router = proc;
    this.routerGrpcPort = Number(ready.grpcPort);
    this.routerHttpPort = Number(ready.httpPort);
    this.routerOpsPort = Number(ready.opsPort);
    await this.waitForWorkers(30_000);
  }

  /** The control plane's job runner (chunkmesh jobs run) on this cluster's queues. */
  private async startRunner(): Promise<void> {
    this.o.log('starting the job runner');
    const { proc, ready } = await ServiceProcess.start({
      entry: JOBS_MAIN,
      name: 'jobs',
      args: [
        '--redis-url',
        this.redis.url,
        '--cluster',
        this.o.cluster,
        '--ops-port',
        '0',
        '--host',
        '127.0.0.1',
      ],
      env: {
        CHUNKMESH_LOG_LEVEL: process.env.CHUNKMESH_LOG_LEVEL ?? 'warn',
      },
    });
    this.runner = proc;
    this.runnerOpsPort = Number(ready.opsPort);
  }

  /** Resolves once the router's index lists every worker. */
  private async waitForWorkers(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let live = 0;
    while (Date.now() < deadline) {
      const text = await fetch(`${this.opsUrl}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      live = Number(/^chunkmesh_router_live_workers\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
      if (live >= this.workers.length) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the router sees ${live} of ${this.workers.length} workers after ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    const stops = [this.runner, this.router, ...this.workerProcs].filter(
      (p): p is ServiceProcess => p !== undefined,
    );
    await Promise.all(stops.map((p) => p.stop(20_000).catch(() => p.kill())));
    await this.redis.stop();
  }
}
