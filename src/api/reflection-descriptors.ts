// What gRPC server reflection can tell about the services this server offers: their .proto files (and any others
// given) with every file they import, and which file declares a symbol or an extension. Built once from the
// descriptors that protoc-gen-es embeds in the generated code, so the answers are the contract the server was built
// from.
import type { DescExtension, DescFile, DescService } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";

export interface ReflectionDescriptors {
  /** Fully-qualified names of the services, in the order given. */
  serviceNames: readonly string[];
  /** A file by its path, e.g. "zitadel/user/v2/user_service.proto". */
  fileByName(name: string): DescFile | undefined;
  /** The file that declares a message, enum, enum value, field, oneof, extension, service or method. */
  fileContainingSymbol(symbol: string): DescFile | undefined;
  fileContainingExtension(extendee: string, number: number): DescFile | undefined;
  /** The extension numbers known for a message; undefined when no such message is known. */
  extensionNumbersOf(extendee: string): number[] | undefined;
}

export function describeServices(services: readonly DescService[], otherFiles: readonly DescFile[] = []): ReflectionDescriptors {
  const files = new Map<string, DescFile>();
  const addWithImports = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const imported of file.dependencies) addWithImports(imported);
  };
  for (const file of [...services.map((service) => service.file), ...otherFiles]) addWithImports(file);

  const symbols = new Map<string, DescFile>();
  const messages = new Set<string>();
  const extensionsByExtendee = new Map<string, DescExtension[]>();
  for (const file of files.values()) {
    for (const type of nestedTypes(file)) {
      symbols.set(type.typeName, file);
      switch (type.kind) {
        case "message":
          messages.add(type.typeName);
          for (const member of [...type.fields, ...type.oneofs]) symbols.set(`${type.typeName}.${member.name}`, file);
          break;
        case "enum": {
          // Enum values are scoped like C++ enumerators: siblings of their enum, not its children.
          const scope = type.typeName.slice(0, type.typeName.lastIndexOf(".") + 1);
          for (const value of type.values) symbols.set(`${scope}${value.name}`, file);
          break;
        }
        case "service":
          for (const method of type.methods) symbols.set(`${type.typeName}.${method.name}`, file);
          break;
        case "extension": {
          const known = extensionsByExtendee.get(type.extendee.typeName) ?? [];
          known.push(type);
          extensionsByExtendee.set(type.extendee.typeName, known);
          break;
        }
      }
    }
  }

  return {
    serviceNames: services.map((service) => service.typeName),
    fileByName: (name) => files.get(name),
    fileContainingSymbol: (symbol) => symbols.get(symbol),
    fileContainingExtension: (extendee, number) =>
      extensionsByExtendee.get(extendee)?.find((extension) => extension.number === number)?.file,
    extensionNumbersOf: (extendee) =>
      messages.has(extendee) ? (extensionsByExtendee.get(extendee) ?? []).map((extension) => extension.number) : undefined,
  };
}
