// gRPC server reflection (grpc.reflection.v1, and v1alpha for older clients), so grpcurl, buf curl and grpcui can
// list and call the server's RPCs without a copy of its .proto files. Answers as gRPC's own servers do: a file comes
// with the files it imports that this stream has not been sent yet, and what is unknown is an error response on
// the stream (NOT_FOUND), which stays open for the next request.
import { type DescFile, type DescService, type MessageInitShape, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl, type ServiceImplSpec, createServiceImplSpec } from "@connectrpc/connect";
import {
  ServerReflection,
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { file_google_rpc_error_details } from "../gen/google/rpc/error_details_pb.js";
import { file_zitadel_v1_error_detail } from "../gen/zitadel/v1/error_detail_pb.js";
import { type ReflectionDescriptors, describeServices } from "./reflection-descriptors.js";

// Errors carry details of these files' types (connect-errors.ts, the validation interceptor; buf.validate.Violations
// comes with the services' own imports). Described too, so that clients can decode them by reflection as well.
const errorDetailFiles = [file_google_rpc_error_details, file_zitadel_v1_error_detail];

/** The reflection services, v1 and v1alpha, describing `services`, themselves and the error details. */
export function createServerReflectionServices(services: readonly DescService[]): ServiceImplSpec[] {
  const descriptors = describeServices([...services, ServerReflection, v1alpha.ServerReflection], errorDetailFiles);
  const encoded = new Map<DescFile, Uint8Array>();
  const encode = (file: DescFile) => {
    const bytes = encoded.get(file) ?? toBinary(FileDescriptorProtoSchema, file.proto);
    encoded.set(file, bytes);
    return bytes;
  };
  const v1: ServiceImpl<typeof ServerReflection> = {
    async *serverReflectionInfo(requests) {
      const answer = answererForOneStream(descriptors, encode);
      for await (const request of requests) yield answer(request);
    },
  };
  // Both versions are the same messages under two package names, so a message converts through its bytes.
  const v1alphaImpl: ServiceImpl<typeof v1alpha.ServerReflection> = {
    async *serverReflectionInfo(requests) {
      const answer = answererForOneStream(descriptors, encode);
      for await (const request of requests) {
        const asV1 = fromBinary(ServerReflectionRequestSchema, toBinary(v1alpha.ServerReflectionRequestSchema, request));
        const response = answer(asV1);
        yield fromBinary(v1alpha.ServerReflectionResponseSchema, toBinary(ServerReflectionResponseSchema, response));
      }
    },
  };
  return [
    createServiceImplSpec<typeof ServerReflection>(ServerReflection, v1),
    createServiceImplSpec<typeof v1alpha.ServerReflection>(v1alpha.ServerReflection, v1alphaImpl),
  ];
}

type Answer = MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"];

function answererForOneStream(
  descriptors: ReflectionDescriptors,
  encode: (file: DescFile) => Uint8Array,
): (request: ServerReflectionRequest) => ServerReflectionResponse {
  const sent = new Set<DescFile>();
  const withUnsentImports = (file: DescFile): Uint8Array[] => {
    const files = [file];
    const queued = new Set(files);
    for (const current of files) {
      for (const imported of current.dependencies) {
        if (queued.has(imported) || sent.has(imported)) continue;
        queued.add(imported);
        files.push(imported);
      }
    }
    for (const each of files) sent.add(each);
    return files.map(encode);
  };
  const error = (errorCode: Code, errorMessage: string): Answer => ({ case: "errorResponse", value: { errorCode, errorMessage } });
  const fileResponse = (file: DescFile | undefined, notFound: string): Answer =>
    file
      ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: withUnsentImports(file) } }
      : error(Code.NotFound, notFound);

  const responseTo = (request: ServerReflectionRequest): Answer => {
    const asked = request.messageRequest;
    switch (asked.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: descriptors.serviceNames.map((name) => ({ name })) } };
      case "fileByFilename":
        return fileResponse(descriptors.fileByName(asked.value), `no file ${asked.value}`);
      case "fileContainingSymbol":
        return fileResponse(descriptors.fileContainingSymbol(asked.value), `no symbol ${asked.value}`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = asked.value;
        const file = descriptors.fileContainingExtension(containingType, extensionNumber);
        return fileResponse(file, `no extension ${extensionNumber} of ${containingType}`);
      }
      case "allExtensionNumbersOfType": {
        const numbers = descriptors.extensionNumbersOf(asked.value);
        if (!numbers) return error(Code.NotFound, `no message ${asked.value}`);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: asked.value, extensionNumber: numbers } };
      }
      case undefined:
        return error(Code.InvalidArgument, "the request asks nothing");
    }
  };

  return (request) =>
    create(ServerReflectionResponseSchema, {
      validHost: request.host,
      originalRequest: request,
      messageResponse: responseTo(request),
    });
}
