// The S3 stand-in (s3rver with consistentWrites, test/helpers/s3.ts) answers a PUT only once the
// object is written, and still behaves as S3 does: the bytes, the ETag, overwrites, multipart, listing.
import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { startTempS3, type S3Fake } from "../helpers/s3.ts";

const BUCKET = "consistency";

describe("the S3 stand-in", () => {
  let s3: S3Fake;
  let client: S3Client;
  before(async () => {
    s3 = await startTempS3([BUCKET]);
    client = new S3Client({ region: "eu-central-1", endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
  });
  after(async () => {
    client.destroy();
    await s3.close();
  });

  const read = async (key: string): Promise<{ body: Buffer; etag: string | undefined }> => {
    const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return { body: Buffer.from((await object.Body?.transformToByteArray()) ?? []), etag: object.ETag };
  };
  const md5 = (data: Buffer): string => `"${createHash("md5").update(data).digest("hex")}"`;

  it("returns the new object, with its MD5 as the ETag, on the GET right after each PUT, overwrites included", async () => {
    await Promise.all(
      ["a/one.json", "a/two.json", "b/three.bin"].map(async (key, k) => {
        for (const size of [1024, 300 * 1024, 0, 7]) {
          const body = randomFillSync(Buffer.alloc(size + k));
          const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: "application/octet-stream" }));
          assert.equal(put.ETag, md5(body));
          const back = await read(key);
          assert.ok(back.body.equals(body), `${key}: ${back.body.length} bytes back of ${body.length}`);
          assert.equal(back.etag, md5(body));
        }
      }),
    );
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "a/" }));
    assert.deepEqual(listed.Contents?.map((c) => [c.Key, c.Size]), [["a/one.json", 7], ["a/two.json", 8]], "only whole objects are listed");
  });

  it("returns the whole object on the GET right after a multipart upload completes", async () => {
    const body = randomFillSync(Buffer.alloc(5 * 2 ** 20 + 3));
    await new Upload({ client, params: { Bucket: BUCKET, Key: "multipart", Body: body }, partSize: 5 * 2 ** 20 }).done();
    const back = await read("multipart");
    assert.equal(back.body.length, body.length);
    assert.ok(back.body.equals(body));
  });
});
