// The few Reflect metadata functions tsyringe (used inside @peculiar/x509) checks for at load time; imported before it.
// reflect-metadata itself is not a dependency: x509 only stores and reads its DI tokens through these three calls.
type MetadataMap = Map<unknown, unknown>;
interface ReflectWithMetadata {
  getMetadata?(key: unknown, target: object): unknown;
  getOwnMetadata?(key: unknown, target: object): unknown;
  defineMetadata?(key: unknown, value: unknown, target: object): void;
}

const R = Reflect as unknown as ReflectWithMetadata;
if (typeof R.getMetadata !== 'function') {
  const store = new WeakMap<object, MetadataMap>();
  const own = (target: object, create: boolean): MetadataMap | undefined => {
    let map = store.get(target);
    if (!map && create) {
      map = new Map();
      store.set(target, map);
    }
    return map;
  };
  R.defineMetadata = (key, value, target) => {
    (own(target, true) as MetadataMap).set(key, value);
  };
  R.getOwnMetadata = (key, target) => own(target, false)?.get(key);
  R.getMetadata = (key, target) => {
    for (let o: object | null = target; o; o = Object.getPrototypeOf(o) as object | null) {
      const map = own(o, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
}

export {};
