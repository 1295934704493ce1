/** The keys a mapping of the config accepts at a path, read from the schema itself. */
import type * as z from "zod";
import type { ConfigPath } from "./references.ts";

type Schema = z.core.$ZodType;

/** The parts of a schema definition that lead from a value to the values inside it. */
interface Def {
  readonly type: string;
  readonly innerType?: Schema;
  readonly in?: Schema;
  readonly shape?: Readonly<Record<string, Schema>>;
  readonly element?: Schema;
  readonly valueType?: Schema;
  readonly options?: readonly Schema[];
}

function defOf(schema: Schema): Def {
  return schema._zod.def;
}

/** Follows wrappers (defaults, optional, transforms, unions) to the schemas that hold values. */
function unwrap(schema: Schema): Schema[] {
  const def = defOf(schema);
  if (def.innerType !== undefined) return unwrap(def.innerType);
  if (def.type === "pipe" && def.in !== undefined) return unwrap(def.in);
  if (def.type === "union" && def.options !== undefined) return def.options.flatMap(unwrap);
  return [schema];
}

function childSchemas(schema: Schema, segment: string | number): Schema[] {
  const def = defOf(schema);
  if (def.shape !== undefined) {
    const inner = def.shape[String(segment)];
    return inner === undefined ? [] : [inner];
  }
  if (def.valueType !== undefined) return [def.valueType];
  if (def.element !== undefined) return [def.element];
  return [];
}

export function knownKeysAt(root: Schema, path: ConfigPath): Set<string> {
  let schemas = unwrap(root);
  for (const segment of path) {
    schemas = schemas.flatMap((s) => childSchemas(s, segment)).flatMap(unwrap);
  }
  const keys = new Set<string>();
  for (const schema of schemas) {
    for (const key of Object.keys(defOf(schema).shape ?? {})) keys.add(key);
  }
  return keys;
}
