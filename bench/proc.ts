// What /proc says about a process: resident memory, CPU time, the open-files limit (Linux only).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** VmRSS of a process in bytes; undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU time a process has used so far, in ms (clock-tick resolution, usually 10 ms). */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** CPU time of this process in ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The soft and hard "Max open files" of a process. */
export function openFilesLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } | undefined {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    if (!m) return undefined;
    const num = (s: string): number => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
    return { soft: num(m[1]), hard: num(m[2]) };
  } catch {
    return undefined;
  }
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverage(): [number, number, number] {
  try {
    const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    return [a, b, c];
  } catch {
    return [Number.NaN, Number.NaN, Number.NaN];
  }
}

/**
 * Puts the benchmark (and the processes it starts, which inherit it) ahead of other work on a
 * shared machine, where the OS allows it. On Linux with autogroup scheduling, every terminal
 * session or job is its own group and gets an equal share of the CPU whatever its processes'
 * nice values, so a build in another session takes half the machine from the measured
 * processes; the group's own nice value (/proc/self/autogroup) is what ranks it. Direct and
 * gateway rounds run under the same setting, so it changes no ratio; it only takes other work's
 * noise out of them. Says what it did, for the report.
 */
export function raiseSchedulingPriority(): string {
  try {
    writeFileSync('/proc/self/autogroup', '-19');
    return 'autogroup nice -19 (this run ahead of other sessions’ work)';
  } catch {
    // no autogroup, or no permission: try the process's own nice value
  }
  try {
    setPriority(-10);
    return 'nice -10';
  } catch {
    return 'default (no permission to raise it: other work on the machine weighs on every round)';
  }
}
