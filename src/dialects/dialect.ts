/**
 * What a dialect gives the relay: the routes it serves, and optionally the headers it
 * adds to its deliveries, the events it derives from deployment statuses, the owners of
 * the subjects it keeps, and where it keeps sealed secrets. A dialect is one folder under
 * src/dialects whose index.ts exports one of these; src/app.ts lists them.
 */
import type { OwnerResolver } from "../access/owners";
import type { ApiArea } from "../http/openapi";
import type { HttpRouter } from "../http/types";
import type { DeliveryHeaders } from "../relay/dispatch";
import type { SealedColumn } from "../relay/reseal";
import type { DeploymentStatusListener } from "../repos/deployments";

export interface Dialect {
  /** The `dialect` recorded on the subscriptions its API makes. */
  name: string;
  /**
   * Mounts the dialect's router on the paths it owns, and returns it: its `routes` are every
   * route the dialect serves (test/worker/authorization.test.ts checks each one's access).
   */
  mount(router: HttpRouter): HttpRouter;
  /** Its paths in the OpenAPI document (GET /openapi.json). */
  openapi: ApiArea;
  deliveryHeaders?: DeliveryHeaders;
  onDeploymentStatus?: DeploymentStatusListener;
  /** How to find the owner of the subject types whose data this dialect keeps. */
  subjectOwners?: Readonly<Record<string, OwnerResolver>>;
  /** Columns of the dialect's own tables that hold secrets sealed with `encryptSecret`. */
  sealedColumns?: readonly SealedColumn[];
}
