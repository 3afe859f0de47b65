/**
 * The JSON Schema of `kpis.yaml`, generated from the zod schema that
 * validates files, for editors that complete and check YAML as it is
 * typed (the YAML language server, JetBrains IDEs) and for agents.
 *
 * @module
 */

import { z } from "zod";
import { configSchema } from "./_schema.ts";
import { KEY_DESCRIPTIONS } from "./_key_descriptions.ts";

/** A JSON Schema document (draft 2020-12), as plain JSON values. */
export type JsonSchema = { [key: string]: unknown };

/** Where the committed copy of the schema lives in the package. */
export const KPI_CONFIG_JSON_SCHEMA_PATH = "schema/kpis.schema.json";

/**
 * A value written as an environment reference (`${NAME}` or
 * `${NAME:-fallback}`): the file is expanded before it is validated, so
 * an editor must accept it wherever a number or `true`/`false` goes.
 */
const ENV_REFERENCE = "^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}$";

/**
 * The JSON Schema of a `kpis.yaml` file: every key with its description,
 * enums for sources, aggregations, comparisons, polarities, severities and
 * channel types. It checks structure only: what needs more than a schema
 * (expressions, conditions, SQL variables, references between KPIs) is
 * checked by `parseKpis` and `kpi validate`.
 *
 * @returns The schema, a new object on every call.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kpiConfigJsonSchema } from "@kpi-engine/kpi-engine";
 *
 * const schema = kpiConfigJsonSchema();
 * assert.equal(schema.type, "object");
 * // Save it beside kpis.yaml for an editor that reads JSON Schema:
 * const text = JSON.stringify(schema, null, 2);
 * assert.match(text, /"enum": \[\s*"sum",/);
 * ```
 */
export function kpiConfigJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(configSchema, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  const described = describe(generated, "", false);
  // Top-level `x-...` keys are ignored on load: a home for YAML anchors.
  described.patternProperties = { "^x-": {} };
  return {
    $schema: generated.$schema,
    title: "kpi-engine configuration (kpis.yaml)",
    description:
      "Business KPIs defined once: where each value comes from, how it is compared with earlier periods, and when it alerts.",
    ...withoutKeys(described, ["$schema"]),
  };
}

/**
 * The path of every property in a schema, in the notation of the
 * description table: `kpis[].alerts[].condition`, `channels.*<email>.to`.
 * Used by the tests that keep the table and the schema in step.
 *
 * @param schema A schema from {@linkcode kpiConfigJsonSchema}.
 * @returns Each property's path and description (undefined where none).
 */
export function listSchemaKeys(
  schema: JsonSchema,
): { path: string; description: string | undefined }[] {
  const keys: { path: string; description: string | undefined }[] = [];
  walk(schema, "", (node, path) => {
    if (path !== "") {
      keys.push({
        path,
        description: typeof node.description === "string"
          ? node.description
          : undefined,
      });
    }
  }, true);
  return keys;
}

function describe(
  node: JsonSchema,
  path: string,
  isProperty = true,
): JsonSchema {
  const copy: JsonSchema = { ...node };
  const text = KEY_DESCRIPTIONS[path];
  if (isProperty && text !== undefined && copy.description === undefined) {
    copy.description = text;
  }
  const properties = copy.properties as Record<string, JsonSchema> | undefined;
  if (properties) {
    copy.properties = Object.fromEntries(
      Object.entries(properties).map((
        [key, value],
      ) => [key, describe(value, join(path, key))]),
    );
  }
  if (isSchema(copy.items)) {
    copy.items = describe(copy.items, `${path}[]`, false);
  }
  if (isSchema(copy.additionalProperties)) {
    copy.additionalProperties = describe(
      copy.additionalProperties,
      join(path, "*"),
      path !== "",
    );
  }
  for (const key of ["oneOf", "anyOf"] as const) {
    const variants = copy[key];
    if (Array.isArray(variants)) {
      copy[key] = variants.map((variant: JsonSchema) =>
        describe(variant, variantPath(path, variant), false)
      );
    }
  }
  acceptEnvReference(copy);
  return copy;
}

function walk(
  node: JsonSchema,
  path: string,
  visit: (node: JsonSchema, path: string) => void,
  isProperty: boolean,
): void {
  if (isProperty) visit(node, path);
  const properties = node.properties as Record<string, JsonSchema> | undefined;
  for (const [key, value] of Object.entries(properties ?? {})) {
    walk(value, join(path, key), visit, true);
  }
  if (isSchema(node.items)) walk(node.items, `${path}[]`, visit, false);
  if (isSchema(node.additionalProperties)) {
    walk(node.additionalProperties, join(path, "*"), visit, path !== "");
  }
  for (const key of ["oneOf", "anyOf"] as const) {
    const variants = node[key];
    if (Array.isArray(variants)) {
      for (const variant of variants as JsonSchema[]) {
        walk(variant, variantPath(path, variant), visit, false);
      }
    }
  }
}

/** Numbers and booleans may be written as `${NAME}`, expanded on load. */
function acceptEnvReference(node: JsonSchema): void {
  const type = node.type;
  if (type !== "number" && type !== "integer" && type !== "boolean") return;
  const original: JsonSchema = { ...node };
  delete original.description;
  for (const key of Object.keys(node)) {
    if (key !== "description") delete node[key];
  }
  node.anyOf = [original, { type: "string", pattern: ENV_REFERENCE }];
}

function variantPath(path: string, variant: JsonSchema): string {
  const properties = variant.properties as
    | Record<string, JsonSchema>
    | undefined;
  const tag = properties?.type?.const;
  return typeof tag === "string" ? `${path}<${tag}>` : path;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function withoutKeys(node: JsonSchema, keys: readonly string[]): JsonSchema {
  return Object.fromEntries(
    Object.entries(node).filter(([key]) => !keys.includes(key)),
  );
}
