import { ApiError, gql, gqlUpload } from "./api";

// Files up to this go with the GraphQL request itself (one multipart POST); larger ones straight to
// the object store through presigned part URLs, resumable after a dropped connection.
export const DIRECT_UPLOAD_MAX_BYTES = 32 * 1024 * 1024;
const PART_RETRIES = 5;

export type Progress = (fraction: number) => void;

export function guessKind(file: File): string {
  const type = file.type;
  const name = file.name.toLowerCase();
  if (type.startsWith("image/")) return "PHOTO";
  if (type.startsWith("video/")) return "VIDEO";
  if (type.startsWith("audio/")) return "AUDIO";
  if (/\.(geojson|kml|kmz|shp\.zip)$/.test(name)) return "GEODATA";
  if (/\.(xlsx|xls|csv)$/.test(name)) return "SPREADSHEET";
  return "DOCUMENT";
}

async function sha256Hex(file: File): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function putPart(url: string, body: Blob, onProgress: (loaded: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    request.upload.onprogress = (event) => onProgress(event.loaded);
    request.onload = () => (request.status < 300 ? resolve() : reject(new ApiError(`HTTP ${request.status}`, "STORAGE_UNAVAILABLE")));
    request.onerror = () => reject(new ApiError("network", "NETWORK"));
    request.send(body);
  });
}

const UPLOAD_FIELDS = "id partSizeBytes partCount status uploadedParts { number sizeBytes } partUrls { number url }";

/**
 * A large file as evidence of a referral: requestEvidenceUpload, a PUT per part (each retried; after a
 * failure evidenceUpload says which parts arrived and gives fresh URLs for the rest), then
 * confirmEvidenceUpload, which checks the size and SHA-256 declared here.
 */
export async function presignedUpload(referralId: string, file: File, description: string | null,
                                      onProgress: Progress): Promise<void> {
  const sha256 = await sha256Hex(file);
  let upload = (await gql(`mutation($input: RequestEvidenceUploadInput!) { requestEvidenceUpload(input: $input) { ${UPLOAD_FIELDS} } }`,
    { input: { owner: referralId, filename: file.name, sizeBytes: file.size, sha256, kind: guessKind(file), description } }))
    .requestEvidenceUpload;
  const partSize: number = upload.partSizeBytes;
  for (let attempt = 0; ; attempt++) {
    const done = new Set<number>(upload.uploadedParts.map((part: { number: number }) => part.number));
    let sent = done.size * partSize;
    try {
      for (const part of upload.partUrls as { number: number; url: string }[]) {
        if (done.has(part.number)) continue;
        const start = (part.number - 1) * partSize;
        const body = file.slice(start, Math.min(start + partSize, file.size));
        await putPart(part.url, body, (loaded) => onProgress(Math.min(1, (sent + loaded) / file.size)));
        sent += body.size;
      }
      break;
    } catch (error) {
      if (attempt >= PART_RETRIES) throw error;
      await new Promise((resume) => setTimeout(resume, 1000 * 2 ** attempt));
      upload = (await gql(`query($id: ID!) { evidenceUpload(id: $id) { ${UPLOAD_FIELDS} } }`, { id: upload.id })).evidenceUpload;
    }
  }
  await gql("mutation($id: ID!) { confirmEvidenceUpload(id: $id) { id } }", { id: upload.id });
  onProgress(1);
}

/** Attach files to an existing referral, each with its own progress bar callback. */
export async function attachFiles(referralId: string, files: File[], onProgress: (index: number, fraction: number) => void): Promise<void> {
  for (const [index, file] of files.entries()) {
    if (file.size > DIRECT_UPLOAD_MAX_BYTES) {
      await presignedUpload(referralId, file, null, (fraction) => onProgress(index, fraction));
    } else {
      await gqlUpload("mutation($referralId: ID!, $file: Upload!, $key: String) { attachEvidence(referralId: $referralId, file: $file, idempotencyKey: $key) { id } }",
        { referralId, file: null, key: crypto.randomUUID() }, { "variables.file": file }, (fraction) => onProgress(index, fraction));
    }
  }
}
