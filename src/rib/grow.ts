// Growing the typed arrays the RIB indexes by slot or fills as scratch space.

/** A copy of `a` at least twice as long (and at least `atLeast`), the rest zero. */
export function grown<T extends Uint8Array | Int32Array | Uint32Array>(a: T, atLeast = 0): T {
  const b = new (a.constructor as new (length: number) => T)(Math.max(a.length * 2, atLeast));
  b.set(a);
  return b;
}
