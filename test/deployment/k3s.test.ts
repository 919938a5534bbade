import { describe, expect, it } from "vitest";
import { loadConfig } from "../../host/config/index.js";
import { at, deploymentPath, readText, readYamlDocuments } from "./support.js";

interface Probe {
  httpGet?: { path: string; port: string | number };
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
}

interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number };
  containers: Container[];
  volumes: {
    name: string;
    hostPath?: { path: string; type?: string };
    emptyDir?: Record<string, unknown>;
    configMap?: { name: string };
  }[];
}

const docs = readYamlDocuments(deploymentPath("k3s", "edge-gateway.yaml")) as unknown as Manifest[];
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const daemonSet = byKind("DaemonSet")[0] as Manifest;
const template = daemonSet.spec?.template as { metadata: { labels: Record<string, string> }; spec: PodSpec };
const pod = template.spec;
const container = pod.containers[0] as Container;

/** Kubernetes quantities: CPU in cores, memory in bytes. */
function quantity(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(text);
  if (m === null) throw new Error(`not a quantity: ${text}`);
  const scale: Record<string, number> = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
  return Number(m[1]) * (m[2] === undefined ? 1 : (scale[m[2]] ?? 1));
}

function subset(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return (
    Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v) &&
    Object.keys(selector ?? {}).length > 0
  );
}

describe("deployment/k3s/edge-gateway.yaml", () => {
  it("declares the namespace, service account, config map, DaemonSet and Service, all in one namespace", () => {
    expect(docs.map((d) => d.kind)).toEqual([
      "Namespace",
      "ServiceAccount",
      "ConfigMap",
      "DaemonSet",
      "Service",
    ]);
    for (const doc of docs) {
      expect(doc.apiVersion, doc.kind).toMatch(/^(v1|apps\/v1)$/);
      if (doc.kind !== "Namespace") expect(doc.metadata.namespace, doc.kind).toBe("edge-gateway");
    }
  });

  it("selects its own pods from the DaemonSet and the Service", () => {
    const labels = template.metadata.labels;
    const selector = at(daemonSet, "spec", "selector", "matchLabels") as Record<string, string>;
    expect(subset(selector, labels)).toBe(true);
    const service = byKind("Service")[0] as Manifest;
    expect(subset(service.spec?.selector as Record<string, string>, labels)).toBe(true);
    const port = at(service, "spec", "ports", 0) as { targetPort: string; port: number };
    expect(container.ports?.map((p) => p.name)).toContain(port?.targetPort);
  });

  it("probes liveness on /health and readiness on /ready on the container's port", () => {
    const portNames = new Set(container.ports?.map((p) => p.name));
    expect(container.livenessProbe?.httpGet?.path).toBe("/health");
    expect(container.readinessProbe?.httpGet?.path).toBe("/ready");
    expect(container.startupProbe?.httpGet?.path).toBe("/health");
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(portNames.has(String(probe?.httpGet?.port))).toBe(true);
    }
    expect(container.ports?.[0]?.containerPort).toBe(8080);
  });

  it("requests and limits CPU and memory, limits at least the requests", () => {
    const { requests = {}, limits = {} } = container.resources ?? {};
    for (const resource of ["cpu", "memory"]) {
      expect(requests[resource], resource).toBeDefined();
      expect(limits[resource], resource).toBeDefined();
      expect(quantity(limits[resource] ?? "0")).toBeGreaterThanOrEqual(quantity(requests[resource] ?? "0"));
    }
  });

  it("keeps the model budget under the memory limit", () => {
    const budgetMb = Number(container.env?.find((e) => e.name === "GATEWAY_MODELS__MEMORY_BUDGET_MB")?.value);
    expect(budgetMb * 2 ** 20).toBeLessThan(quantity(container.resources?.limits?.memory ?? "0"));
  });

  it("runs as the image's non-root user with a read-only root file system and no privileges", () => {
    const user = /^USER (\d+):(\d+)$/m.exec(readText(deploymentPath("container", "Containerfile")));
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).toBe(Number(user?.[1]));
    expect(pod.securityContext?.runAsGroup).toBe(Number(user?.[2]));
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext?.runAsNonRoot).toBe(true);
    expect(container.securityContext?.capabilities?.drop).toEqual(["ALL"]);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe((byKind("ServiceAccount")[0] as Manifest).metadata.name);
  });

  it("keeps the queue on the node's disk and gives every mount a volume", () => {
    const volumes = new Map(pod.volumes.map((v) => [v.name, v]));
    const dataDir = container.env?.find((e) => e.name === "GATEWAY_DATA_DIR")?.value;
    const dataMount = container.volumeMounts?.find((m) => m.mountPath === dataDir);
    expect(dataMount).toBeDefined();
    const data = volumes.get(dataMount?.name ?? "");
    expect(data?.hostPath?.path ?? (data?.emptyDir ? "emptyDir" : undefined)).toBe("/var/lib/edge-gateway");
    expect(container.volumeMounts?.map((m) => m.mountPath)).toContain("/tmp");
    for (const mount of container.volumeMounts ?? []) expect(volumes.has(mount.name), mount.name).toBe(true);
    const configMaps = new Set(byKind("ConfigMap").map((c) => c.metadata.name));
    for (const volume of pod.volumes) {
      if (volume.configMap) expect(configMaps.has(volume.configMap.name)).toBe(true);
    }
  });

  it("gives the gateway an environment and a gateway.yaml its configuration accepts", () => {
    const configMap = byKind("ConfigMap")[0] as Manifest;
    const configMount = container.volumeMounts?.find(
      (m) => pod.volumes.find((v) => v.name === m.name)?.configMap?.name === configMap.metadata.name,
    );
    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined) env[variable.name] = variable.value;
      // Secrets: a stand-in value where required, absent where optional.
      else if (variable.valueFrom?.secretKeyRef && !variable.valueFrom.secretKeyRef.optional)
        env[variable.name] = "k";
    }
    expect(env.GATEWAY_CONFIG).toBe(`${configMount?.mountPath}/gateway.yaml`);
    const config = loadConfig({
      env,
      readFile: (path) => {
        expect(path).toBe(env.GATEWAY_CONFIG);
        return configMap.data?.["gateway.yaml"] ?? "";
      },
    });
    expect(config.server.host).toBe("0.0.0.0");
    expect(config.auth.envKeys).toBe("k");
  });

  it("uses the image the compose file builds", () => {
    const compose = readText(deploymentPath("compose", "compose.yaml"));
    expect(compose).toContain(`image: ${container.image}`);
    expect(container.args).toEqual(["serve"]);
  });
});
