// The portal talks to the platform only through its GraphQL API (and the tile and download routes,
// with the same bearer token).
const TOKEN_KEY = "pil.token";

export class ApiError extends Error {
  constructor(message: string, public code: string, public field?: string) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders(): Record<string, string> {
  const current = token();
  return current ? { Authorization: `Bearer ${current}` } : {};
}

type Body = { data?: Record<string, unknown>; errors?: { message: string; extensions?: { code?: string; field?: string } }[] };

function unwrap<T>(body: Body): T {
  if (body.errors && body.errors.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, first.extensions?.code ?? "INTERNAL", first.extensions?.field);
  }
  return body.data as T;
}

export async function gql<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...authHeaders() },
    body: JSON.stringify({ query, variables }),
  });
  let body: Body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP ${response.status}`, "INTERNAL");
  }
  return unwrap<T>(body);
}

/**
 * A mutation with files, as the GraphQL multipart request spec says: `files` maps a variable path
 * (e.g. "variables.evidence.0.file") to a file. XMLHttpRequest, because fetch reports no upload progress.
 */
export function gqlUpload<T = any>(query: string, variables: Record<string, unknown>, files: Record<string, File>,
                                   onProgress?: (fraction: number) => void): Promise<T> {
  const form = new FormData();
  form.append("operations", JSON.stringify({ query, variables }));
  const paths = Object.keys(files);
  form.append("map", JSON.stringify(Object.fromEntries(paths.map((path, index) => [String(index), [path]]))));
  paths.forEach((path, index) => form.append(String(index), files[path], files[path].name));
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/graphql");
    for (const [name, value] of Object.entries(authHeaders())) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      try {
        resolve(unwrap<T>(JSON.parse(request.responseText)));
      } catch (error) {
        reject(error instanceof ApiError ? error : new ApiError(`HTTP ${request.status}`, "INTERNAL"));
      }
    };
    request.onerror = () => reject(new ApiError("network", "NETWORK"));
    request.send(form);
  });
}

/** Fetch an authorised download (evidence) as a blob: links cannot carry the bearer token. */
export async function fetchBlob(path: string): Promise<Blob> {
  const response = await fetch(path, { headers: authHeaders() });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try {
      const body = await response.json();
      message = body.errors?.[0]?.message ?? message;
    } catch { /* not JSON */ }
    throw new ApiError(message, "DOWNLOAD");
  }
  return response.blob();
}

/** Download an authorised file (the bearer token cannot ride on a plain link) and save it as `filename`. */
export async function saveAs(path: string, filename: string): Promise<void> {
  const url = URL.createObjectURL(await fetchBlob(path));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
