import { describe, expect, it } from "vitest";
import { isJsonObject, numberField, objectField, parseJsonObjectLine, stringField } from "./json-fields.ts";

describe("json fields", () => {
  it("parses only lines holding a JSON object", () => {
    expect(parseJsonObjectLine(' {"type":"text"} \r')).toEqual({ type: "text" });
    for (const line of ["", "plain text", "[1,2]", '{"broken":', "null"]) expect(parseJsonObjectLine(line)).toBeNull();
  });

  it("narrows fields by type, treating empty strings and non-finite numbers as absent", () => {
    const object = { name: "x", empty: "", count: 3, nan: Number.NaN, nested: { a: 1 }, list: [1] };
    expect(stringField(object, "name")).toBe("x");
    expect(stringField(object, "empty")).toBeNull();
    expect(stringField(object, "count")).toBeNull();
    expect(numberField(object, "count")).toBe(3);
    expect(numberField(object, "nan")).toBeNull();
    expect(objectField(object, "nested")).toEqual({ a: 1 });
    expect(objectField(object, "list")).toEqual({});
    expect(isJsonObject([])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
  });
});
