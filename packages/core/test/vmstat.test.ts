import { describe, expect, it } from 'vitest';
import { VM_GAUGES, VmStat } from '../src/index.js';

describe('VmStat.sample', () => {
  it('folds every gauge of VM_GAUGES into its peak, and a lower value leaves the peak', () => {
    const vm = new VmStat();
    VM_GAUGES.forEach((g, i) => {
      vm[g] = 100 + i;
    });
    vm.sample();
    for (const [i, g] of VM_GAUGES.entries()) expect(vm.peak[g], g).toBe(100 + i);
    for (const g of VM_GAUGES) vm[g] = 1;
    vm.sample();
    for (const [i, g] of VM_GAUGES.entries()) expect(vm.peak[g], g).toBe(100 + i);
    expect(Object.keys(vm.peak).sort()).toEqual([...VM_GAUGES].sort());
  });
});
