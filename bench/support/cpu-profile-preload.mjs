// Preloaded into a service process (NODE_OPTIONS=--import this file, which
// node allows where it refuses --cpu-prof) by benchmarks that profile a
// child: samples its main thread from start to exit, and writes the V8 CPU
// profile to $CHUNKMESH_BENCH_CPU_PROFILE when it exits.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.CHUNKMESH_BENCH_CPU_PROFILE;
if (file) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 100 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // The main thread's own session answers synchronously, so this runs before the process ends.
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}
