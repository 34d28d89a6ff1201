import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler';

export interface LazySerializers {
  /** For Fastify's `schemaController.compilersFactory.buildSerializer`. */
  factory: SerializerFactory;
  /** Builds every response serializer not built yet (throws on a schema that cannot be built); returns how many there are. */
  buildAll(): number;
}

/**
 * Fastify's own response serializers (fast-json-stringify), each built the first time its route answers with that
 * status instead of when the server starts. Every route declares its responses for the OpenAPI document; building
 * all of them up front was most of a server's start (about 1 s of CPU on this machine, measured with
 * `node --cpu-prof`: fast-json-stringify's `build`). A schema that cannot be built would then fail its route's
 * first answer rather than the start, so test/server/response-schemas.test.ts calls `buildAll()`.
 */
export function lazySerializers(): LazySerializers {
  const build = SerializerSelector();
  const all: (() => unknown)[] = [];
  return {
    factory: (externalSchemas, options) => {
      const compile = build(externalSchemas, options);
      return (route) => {
        let serialize: ((doc: unknown) => string) | undefined;
        const get = () => (serialize ??= compile(route));
        all.push(get);
        return (doc) => get()(doc);
      };
    },
    buildAll: () => {
      for (const get of all) get();
      return all.length;
    },
  };
}
