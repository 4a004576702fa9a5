/**
 * CPU time this thread spends in `fn`, in ms. Tests that bound how long a computation takes
 * measure this rather than the wall clock: on a loaded machine (CI, or a test run beside other
 * work) the wall clock also counts the time the thread waited for a core, and a linear-time
 * check that takes 60 ms of CPU once took 160 ms by the wall clock.
 */
export function cpuMs(fn: () => unknown): number {
  const before = process.threadCpuUsage();
  fn();
  const { user, system } = process.threadCpuUsage(before);
  return (user + system) / 1000;
}
