/**
 * File types and character devices a feature adds: a name and its
 * `file_operations` (an `mmap` that sets the VMA's `vm_ops`, maps pfns or
 * pages, or refuses), created with `Kernel.fileCreate` and mapped with
 * `Kernel.mmap` like any file.
 * @module
 */
import type { FileOperations, AddressSpace } from '../fs/address-space.js';
import type { Kernel } from '../kernel/kernel.js';
import { checkOwnerName } from './names.js';
import { KernelConfigError } from './feature.js';

/** What a feature gives for a file type: its `file_operations` and an optional setup. */
export interface FileTypeOps extends FileOperations {
  /**
   * A file of this type was created (a device probed, a file opened):
   * set up what it holds. Runs before the file is visible.
   */
  setup?(k: Kernel, file: AddressSpace): void;
}

/** A registered file type. */
export interface FileType {
  /** The feature that registered it. */
  readonly feature: string;
  /** Its name (`hugepages`, `xip-pfn`). */
  readonly name: string;
  /** Its operations. */
  readonly ops: FileTypeOps;
}

/** The file types the features of one kernel registered. */
export class FileTypes {
  /** Every registered type, in registration order. */
  readonly list: FileType[] = [];

  /** Register file type `name` of `feature`. */
  register(feature: string, name: string, ops: FileTypeOps): FileType {
    const what = `file type '${name}' of feature '${feature}'`;
    checkOwnerName(what, feature);
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new KernelConfigError(`${what}: names are lower-case words joined by '-'`);
    if (this.list.some((t) => t.name === name)) throw new KernelConfigError(`${what} is registered twice (file type names are global)`);
    const t: FileType = Object.freeze({ feature, name, ops });
    this.list.push(t);
    return t;
  }
}
