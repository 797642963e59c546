import { cpus, totalmem } from 'node:os';

/** What a result was measured on; numbers from different machines do not compare. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpu_model: string;
  readonly mem_gb: number;
  readonly node: string;
  readonly platform: string;
}

export function machine(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpu_model: list[0]?.model.trim() ?? 'unknown',
    mem_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}
