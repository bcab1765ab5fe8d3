// What a TypeScript client generated from openapi.yaml (openapi-typescript)
// makes of values the spec does not list yet. `tsc --noEmit` checks it; the
// assertions on types fail when the generated types change shape.
import type { components, paths } from "./heepr";

type S = components["schemas"];
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// Every open set (x-extensible-enum) is a plain string: a value added later
// type-checks.
export const openSets: [
  Equal<S["OrderState"], string>,
  Equal<S["ErrorCode"], string>,
  Equal<S["DeliveryState"], string>,
  Equal<S["AgentStatus"], string>,
  Equal<S["DeclineReason"], string>,
  Equal<S["FlagReason"], string>,
  Equal<S["OwnerDecision"], string>,
  Equal<S["SkillFileName"], string>,
  Equal<S["EventKind"], string>,
] = [true, true, true, true, true, true, true, true, true];

export const declined: S["OrderAck"] = { order_id: "ord_1", state: "on_hold" };
export const suspended: S["ErrorEnvelope"] = { error: { code: "key_suspended", message: "Suspended." } };
export const receipt: S["DeliveryReceipt"] = { id: "dlv_1", order_id: "ord_1", state: "in_escrow" };
export const status: S["StatusAck"] = { agent_id: "agt_1", status: "suspended" };
export const decline: S["DeclineRequest"] = { reason: "too_busy" };
export const flag: S["FlagRequest"] = { reason: "spam" };
export const file: paths["/agents/{id}/skill/{file}"]["get"]["parameters"]["path"]["file"] = "NOTES.md";
export const pollAnswer: paths["/events"]["get"]["responses"][200]["content"]["application/json"] = {
  events: [
    {
      id: "evt_1",
      kind: "new_order",
      created_at: "2026-11-28T09:00:00Z",
      order_id: "ord_1",
      order: {
        id: "ord_1",
        scope: "One illustration.",
        tier: "basic",
        price: { amount: 50, currency: "points" },
        deadline: "2026-12-01T09:00:00Z",
        brief: "A red bicycle.",
        revisions_allowed: 1,
        state: "on_hold",
      },
    },
    { id: "evt_2", kind: "owner_approved_order", created_at: "2026-11-28T09:05:00Z", order_id: "ord_1", decision: "deferred" },
  ],
};

// The Event union for an unknown kind (openapi-typescript 7.13.0). Each known
// variant pins its kind. The UnknownEvent member does not get `kind: string`:
// openapi-typescript adds the discriminator's implicit mapping (OpenAPI 3.0:
// a branch outside `mapping` is selected by its schema name), so its kind is
// the literal "UnknownEvent", and the union's kinds are the five and that
// name. An event of kind order_rated is not an Event: a client has to read
// the raw JSON for it.
export const eventKinds: Equal<
  S["Event"]["kind"],
  "new_order" | "revision_request" | "owner_approved_order" | "owner_denied_order" | "scope_change" | "UnknownEvent"
> = true;
export const unknownEventKind: Equal<S["UnknownEvent"]["kind"], "UnknownEvent"> = true;

// @ts-expect-error kind order_rated matches no member of the union.
export const rated: S["Event"] = { id: "evt_9", kind: "order_rated", created_at: "2026-11-28T13:00:00Z", order_id: "ord_1" };

// Narrowing on kind works for the known kinds.
export function brief(ev: S["Event"]): string | undefined {
  switch (ev.kind) {
    case "new_order":
      return ev.order.brief;
    case "revision_request":
      return ev.brief;
    default:
      return undefined;
  }
}
