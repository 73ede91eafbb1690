// The few Reflect metadata functions tsyringe (used inside @peculiar/x509) checks for at load, when no polyfill is installed.
// reflect-metadata is not among our dependencies; x509 only stores and reads its own injection tokens through these,
// so a WeakMap per target is all it needs. An existing polyfill is left alone.

type MetadataMap = Map<unknown, unknown>;
const store = new WeakMap<object, Map<string | symbol | undefined, MetadataMap>>();

function table(target: object, property: string | symbol | undefined, create: boolean): MetadataMap | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let map = byProperty.get(property);
  if (!map && create) {
    map = new Map();
    byProperty.set(property, map);
  }
  return map;
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  const getOwnMetadata = (key: unknown, target: object, property?: string | symbol): unknown => table(target, property, false)?.get(key);
  const getMetadata = (key: unknown, target: object, property?: string | symbol): unknown => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const map = table(t, property, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
  const defineMetadata = (key: unknown, value: unknown, target: object, property?: string | symbol): void => {
    table(target, property, true)?.set(key, value);
  };
  const metadata = (key: unknown, value: unknown) => (target: object, property?: string | symbol): void => defineMetadata(key, value, target, property);
  Object.assign(reflect, { getOwnMetadata, getMetadata, defineMetadata, metadata });
}

export {};
