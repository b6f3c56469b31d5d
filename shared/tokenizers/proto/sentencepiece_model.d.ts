import * as $protobuf from "protobufjs/minimal.js";
import Long = require("long");

/** Namespace sentencepiece. */
export namespace sentencepiece {

    /**
     * Properties of a TrainerSpec.
     * @deprecated Use sentencepiece.TrainerSpec.$Properties instead.
     */
    interface ITrainerSpec extends sentencepiece.TrainerSpec.$Properties {
    }

    /** Represents a TrainerSpec. */
    class TrainerSpec {

        /**
         * Constructs a new TrainerSpec.
         * @param [properties] Properties to set
         */
        constructor(properties?: sentencepiece.TrainerSpec.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** TrainerSpec input. */
        input: string[];

        /** TrainerSpec inputFormat. */
        inputFormat: string;

        /** TrainerSpec modelPrefix. */
        modelPrefix: string;

        /** TrainerSpec modelType. */
        modelType: sentencepiece.TrainerSpec.ModelType;

        /** TrainerSpec vocabSize. */
        vocabSize: number;

        /** TrainerSpec acceptLanguage. */
        acceptLanguage: string[];

        /** TrainerSpec selfTestSampleSize. */
        selfTestSampleSize: number;

        /** TrainerSpec enableDifferentialPrivacy. */
        enableDifferentialPrivacy: boolean;

        /** TrainerSpec differentialPrivacyNoiseLevel. */
        differentialPrivacyNoiseLevel: number;

        /** TrainerSpec differentialPrivacyClippingThreshold. */
        differentialPrivacyClippingThreshold: (number|Long);

        /** TrainerSpec characterCoverage. */
        characterCoverage: number;

        /** TrainerSpec inputSentenceSize. */
        inputSentenceSize: (number|Long);

        /** TrainerSpec shuffleInputSentence. */
        shuffleInputSentence: boolean;

        /** TrainerSpec miningSentenceSize. */
        miningSentenceSize: number;

        /** TrainerSpec trainingSentenceSize. */
        trainingSentenceSize: number;

        /** TrainerSpec seedSentencepieceSize. */
        seedSentencepieceSize: number;

        /** TrainerSpec shrinkingFactor. */
        shrinkingFactor: number;

        /** TrainerSpec maxSentenceLength. */
        maxSentenceLength: number;

        /** TrainerSpec numThreads. */
        numThreads: number;

        /** TrainerSpec numSubIterations. */
        numSubIterations: number;

        /** TrainerSpec maxSentencepieceLength. */
        maxSentencepieceLength: number;

        /** TrainerSpec splitByUnicodeScript. */
        splitByUnicodeScript: boolean;

        /** TrainerSpec splitByNumber. */
        splitByNumber: boolean;

        /** TrainerSpec splitByWhitespace. */
        splitByWhitespace: boolean;

        /** TrainerSpec treatWhitespaceAsSuffix. */
        treatWhitespaceAsSuffix: boolean;

        /** TrainerSpec allowWhitespaceOnlyPieces. */
        allowWhitespaceOnlyPieces: boolean;

        /** TrainerSpec splitDigits. */
        splitDigits: boolean;

        /** TrainerSpec pretokenizationDelimiter. */
        pretokenizationDelimiter: string;

        /** TrainerSpec controlSymbols. */
        controlSymbols: string[];

        /** TrainerSpec userDefinedSymbols. */
        userDefinedSymbols: string[];

        /** TrainerSpec requiredChars. */
        requiredChars: string;

        /** TrainerSpec byteFallback. */
        byteFallback: boolean;

        /** TrainerSpec vocabularyOutputPieceScore. */
        vocabularyOutputPieceScore: boolean;

        /** TrainerSpec hardVocabLimit. */
        hardVocabLimit: boolean;

        /** TrainerSpec useAllVocab. */
        useAllVocab: boolean;

        /** TrainerSpec unkId. */
        unkId: number;

        /** TrainerSpec bosId. */
        bosId: number;

        /** TrainerSpec eosId. */
        eosId: number;

        /** TrainerSpec padId. */
        padId: number;

        /** TrainerSpec unkPiece. */
        unkPiece: string;

        /** TrainerSpec bosPiece. */
        bosPiece: string;

        /** TrainerSpec eosPiece. */
        eosPiece: string;

        /** TrainerSpec padPiece. */
        padPiece: string;

        /** TrainerSpec unkSurface. */
        unkSurface: string;

        /** TrainerSpec trainExtremelyLargeCorpus. */
        trainExtremelyLargeCorpus: boolean;

        /** TrainerSpec seedSentencepiecesFile. */
        seedSentencepiecesFile: string;

        /**
         * Creates a new TrainerSpec instance using the specified properties.
         * @param [properties] Properties to set
         * @returns TrainerSpec instance
         */
        static create(properties: sentencepiece.TrainerSpec.$Shape): sentencepiece.TrainerSpec & sentencepiece.TrainerSpec.$Shape;
        static create(properties?: sentencepiece.TrainerSpec.$Properties): sentencepiece.TrainerSpec;

        /**
         * Encodes the specified TrainerSpec message. Does not implicitly {@link sentencepiece.TrainerSpec.verify|verify} messages.
         * @param message TrainerSpec message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: sentencepiece.TrainerSpec.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a TrainerSpec message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {sentencepiece.TrainerSpec & sentencepiece.TrainerSpec.$Shape} TrainerSpec
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): sentencepiece.TrainerSpec & sentencepiece.TrainerSpec.$Shape;
    }

    namespace TrainerSpec {

        /** Properties of a TrainerSpec. */
        interface $Properties {

            /** TrainerSpec input */
            input?: (string[]|null);

            /** TrainerSpec inputFormat */
            inputFormat?: (string|null);

            /** TrainerSpec modelPrefix */
            modelPrefix?: (string|null);

            /** TrainerSpec modelType */
            modelType?: (sentencepiece.TrainerSpec.ModelType|null);

            /** TrainerSpec vocabSize */
            vocabSize?: (number|null);

            /** TrainerSpec acceptLanguage */
            acceptLanguage?: (string[]|null);

            /** TrainerSpec selfTestSampleSize */
            selfTestSampleSize?: (number|null);

            /** TrainerSpec enableDifferentialPrivacy */
            enableDifferentialPrivacy?: (boolean|null);

            /** TrainerSpec differentialPrivacyNoiseLevel */
            differentialPrivacyNoiseLevel?: (number|null);

            /** TrainerSpec differentialPrivacyClippingThreshold */
            differentialPrivacyClippingThreshold?: (number|Long|null);

            /** TrainerSpec characterCoverage */
            characterCoverage?: (number|null);

            /** TrainerSpec inputSentenceSize */
            inputSentenceSize?: (number|Long|null);

            /** TrainerSpec shuffleInputSentence */
            shuffleInputSentence?: (boolean|null);

            /** TrainerSpec miningSentenceSize */
            miningSentenceSize?: (number|null);

            /** TrainerSpec trainingSentenceSize */
            trainingSentenceSize?: (number|null);

            /** TrainerSpec seedSentencepieceSize */
            seedSentencepieceSize?: (number|null);

            /** TrainerSpec shrinkingFactor */
            shrinkingFactor?: (number|null);

            /** TrainerSpec maxSentenceLength */
            maxSentenceLength?: (number|null);

            /** TrainerSpec numThreads */
            numThreads?: (number|null);

            /** TrainerSpec numSubIterations */
            numSubIterations?: (number|null);

            /** TrainerSpec maxSentencepieceLength */
            maxSentencepieceLength?: (number|null);

            /** TrainerSpec splitByUnicodeScript */
            splitByUnicodeScript?: (boolean|null);

            /** TrainerSpec splitByNumber */
            splitByNumber?: (boolean|null);

            /** TrainerSpec splitByWhitespace */
            splitByWhitespace?: (boolean|null);

            /** TrainerSpec treatWhitespaceAsSuffix */
            treatWhitespaceAsSuffix?: (boolean|null);

            /** TrainerSpec allowWhitespaceOnlyPieces */
            allowWhitespaceOnlyPieces?: (boolean|null);

            /** TrainerSpec splitDigits */
            splitDigits?: (boolean|null);

            /** TrainerSpec pretokenizationDelimiter */
            pretokenizationDelimiter?: (string|null);

            /** TrainerSpec controlSymbols */
            controlSymbols?: (string[]|null);

            /** TrainerSpec userDefinedSymbols */
            userDefinedSymbols?: (string[]|null);

            /** TrainerSpec requiredChars */
            requiredChars?: (string|null);

            /** TrainerSpec byteFallback */
            byteFallback?: (boolean|null);

            /** TrainerSpec vocabularyOutputPieceScore */
            vocabularyOutputPieceScore?: (boolean|null);

            /** TrainerSpec hardVocabLimit */
            hardVocabLimit?: (boolean|null);

            /** TrainerSpec useAllVocab */
            useAllVocab?: (boolean|null);

            /** TrainerSpec unkId */
            unkId?: (number|null);

            /** TrainerSpec bosId */
            bosId?: (number|null);

            /** TrainerSpec eosId */
            eosId?: (number|null);

            /** TrainerSpec padId */
            padId?: (number|null);

            /** TrainerSpec unkPiece */
            unkPiece?: (string|null);

            /** TrainerSpec bosPiece */
            bosPiece?: (string|null);

            /** TrainerSpec eosPiece */
            eosPiece?: (string|null);

            /** TrainerSpec padPiece */
            padPiece?: (string|null);

            /** TrainerSpec unkSurface */
            unkSurface?: (string|null);

            /** TrainerSpec trainExtremelyLargeCorpus */
            trainExtremelyLargeCorpus?: (boolean|null);

            /** TrainerSpec seedSentencepiecesFile */
            seedSentencepiecesFile?: (string|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a TrainerSpec. */
        type $Shape = sentencepiece.TrainerSpec.$Properties;

        /** ModelType enum. */
        enum ModelType {

            /** UNIGRAM value */
            UNIGRAM = 1,

            /** BPE value */
            BPE = 2,

            /** WORD value */
            WORD = 3,

            /** CHAR value */
            CHAR = 4
        }
    }

    /**
     * Properties of a NormalizerSpec.
     * @deprecated Use sentencepiece.NormalizerSpec.$Properties instead.
     */
    interface INormalizerSpec extends sentencepiece.NormalizerSpec.$Properties {
    }

    /** Represents a NormalizerSpec. */
    class NormalizerSpec {

        /**
         * Constructs a new NormalizerSpec.
         * @param [properties] Properties to set
         */
        constructor(properties?: sentencepiece.NormalizerSpec.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** NormalizerSpec name. */
        name: string;

        /** NormalizerSpec precompiledCharsmap. */
        precompiledCharsmap: Uint8Array;

        /** NormalizerSpec addDummyPrefix. */
        addDummyPrefix: boolean;

        /** NormalizerSpec removeExtraWhitespaces. */
        removeExtraWhitespaces: boolean;

        /** NormalizerSpec escapeWhitespaces. */
        escapeWhitespaces: boolean;

        /** NormalizerSpec normalizationRuleTsv. */
        normalizationRuleTsv: string;

        /**
         * Creates a new NormalizerSpec instance using the specified properties.
         * @param [properties] Properties to set
         * @returns NormalizerSpec instance
         */
        static create(properties: sentencepiece.NormalizerSpec.$Shape): sentencepiece.NormalizerSpec & sentencepiece.NormalizerSpec.$Shape;
        static create(properties?: sentencepiece.NormalizerSpec.$Properties): sentencepiece.NormalizerSpec;

        /**
         * Encodes the specified NormalizerSpec message. Does not implicitly {@link sentencepiece.NormalizerSpec.verify|verify} messages.
         * @param message NormalizerSpec message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: sentencepiece.NormalizerSpec.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a NormalizerSpec message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {sentencepiece.NormalizerSpec & sentencepiece.NormalizerSpec.$Shape} NormalizerSpec
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): sentencepiece.NormalizerSpec & sentencepiece.NormalizerSpec.$Shape;
    }

    namespace NormalizerSpec {

        /** Properties of a NormalizerSpec. */
        interface $Properties {

            /** NormalizerSpec name */
            name?: (string|null);

            /** NormalizerSpec precompiledCharsmap */
            precompiledCharsmap?: (Uint8Array|null);

            /** NormalizerSpec addDummyPrefix */
            addDummyPrefix?: (boolean|null);

            /** NormalizerSpec removeExtraWhitespaces */
            removeExtraWhitespaces?: (boolean|null);

            /** NormalizerSpec escapeWhitespaces */
            escapeWhitespaces?: (boolean|null);

            /** NormalizerSpec normalizationRuleTsv */
            normalizationRuleTsv?: (string|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a NormalizerSpec. */
        type $Shape = sentencepiece.NormalizerSpec.$Properties;
    }

    /**
     * Properties of a SelfTestData.
     * @deprecated Use sentencepiece.SelfTestData.$Properties instead.
     */
    interface ISelfTestData extends sentencepiece.SelfTestData.$Properties {
    }

    /** Represents a SelfTestData. */
    class SelfTestData {

        /**
         * Constructs a new SelfTestData.
         * @param [properties] Properties to set
         */
        constructor(properties?: sentencepiece.SelfTestData.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** SelfTestData samples. */
        samples: sentencepiece.SelfTestData.Sample.$Properties[];

        /**
         * Creates a new SelfTestData instance using the specified properties.
         * @param [properties] Properties to set
         * @returns SelfTestData instance
         */
        static create(properties: sentencepiece.SelfTestData.$Shape): sentencepiece.SelfTestData & sentencepiece.SelfTestData.$Shape;
        static create(properties?: sentencepiece.SelfTestData.$Properties): sentencepiece.SelfTestData;

        /**
         * Encodes the specified SelfTestData message. Does not implicitly {@link sentencepiece.SelfTestData.verify|verify} messages.
         * @param message SelfTestData message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: sentencepiece.SelfTestData.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a SelfTestData message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {sentencepiece.SelfTestData & sentencepiece.SelfTestData.$Shape} SelfTestData
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): sentencepiece.SelfTestData & sentencepiece.SelfTestData.$Shape;
    }

    namespace SelfTestData {

        /** Properties of a SelfTestData. */
        interface $Properties {

            /** SelfTestData samples */
            samples?: (sentencepiece.SelfTestData.Sample.$Properties[]|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a SelfTestData. */
        type $Shape = sentencepiece.SelfTestData.$Properties;

        /**
         * Properties of a Sample.
         * @deprecated Use sentencepiece.SelfTestData.Sample.$Properties instead.
         */
        interface ISample extends sentencepiece.SelfTestData.Sample.$Properties {
        }

        /** Represents a Sample. */
        class Sample {

            /**
             * Constructs a new Sample.
             * @param [properties] Properties to set
             */
            constructor(properties?: sentencepiece.SelfTestData.Sample.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** Sample input. */
            input: string;

            /** Sample expected. */
            expected: string;

            /**
             * Creates a new Sample instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Sample instance
             */
            static create(properties: sentencepiece.SelfTestData.Sample.$Shape): sentencepiece.SelfTestData.Sample & sentencepiece.SelfTestData.Sample.$Shape;
            static create(properties?: sentencepiece.SelfTestData.Sample.$Properties): sentencepiece.SelfTestData.Sample;

            /**
             * Encodes the specified Sample message. Does not implicitly {@link sentencepiece.SelfTestData.Sample.verify|verify} messages.
             * @param message Sample message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            static encode(message: sentencepiece.SelfTestData.Sample.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Sample message from the specified reader or buffer.
             * @param reader Reader or buffer to decode from
             * @param [length] Message length if known beforehand
             * @returns {sentencepiece.SelfTestData.Sample & sentencepiece.SelfTestData.Sample.$Shape} Sample
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): sentencepiece.SelfTestData.Sample & sentencepiece.SelfTestData.Sample.$Shape;
        }

        namespace Sample {

            /** Properties of a Sample. */
            interface $Properties {

                /** Sample input */
                input?: (string|null);

                /** Sample expected */
                expected?: (string|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a Sample. */
            type $Shape = sentencepiece.SelfTestData.Sample.$Properties;
        }
    }

    /**
     * Properties of a ModelProto.
     * @deprecated Use sentencepiece.ModelProto.$Properties instead.
     */
    interface IModelProto extends sentencepiece.ModelProto.$Properties {
    }

    /** Represents a ModelProto. */
    class ModelProto {

        /**
         * Constructs a new ModelProto.
         * @param [properties] Properties to set
         */
        constructor(properties?: sentencepiece.ModelProto.$Properties);

        /** Unknown fields preserved while decoding when enabled */
        $unknowns?: Uint8Array[];

        /** ModelProto pieces. */
        pieces: sentencepiece.ModelProto.SentencePiece.$Properties[];

        /** ModelProto trainerSpec. */
        trainerSpec?: (sentencepiece.TrainerSpec.$Properties|null);

        /** ModelProto normalizerSpec. */
        normalizerSpec?: (sentencepiece.NormalizerSpec.$Properties|null);

        /** ModelProto selfTestData. */
        selfTestData?: (sentencepiece.SelfTestData.$Properties|null);

        /** ModelProto denormalizerSpec. */
        denormalizerSpec?: (sentencepiece.NormalizerSpec.$Properties|null);

        /**
         * Creates a new ModelProto instance using the specified properties.
         * @param [properties] Properties to set
         * @returns ModelProto instance
         */
        static create(properties: sentencepiece.ModelProto.$Shape): sentencepiece.ModelProto & sentencepiece.ModelProto.$Shape;
        static create(properties?: sentencepiece.ModelProto.$Properties): sentencepiece.ModelProto;

        /**
         * Encodes the specified ModelProto message. Does not implicitly {@link sentencepiece.ModelProto.verify|verify} messages.
         * @param message ModelProto message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        static encode(message: sentencepiece.ModelProto.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a ModelProto message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns {sentencepiece.ModelProto & sentencepiece.ModelProto.$Shape} ModelProto
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): sentencepiece.ModelProto & sentencepiece.ModelProto.$Shape;
    }

    namespace ModelProto {

        /** Properties of a ModelProto. */
        interface $Properties {

            /** ModelProto pieces */
            pieces?: (sentencepiece.ModelProto.SentencePiece.$Properties[]|null);

            /** ModelProto trainerSpec */
            trainerSpec?: (sentencepiece.TrainerSpec.$Properties|null);

            /** ModelProto normalizerSpec */
            normalizerSpec?: (sentencepiece.NormalizerSpec.$Properties|null);

            /** ModelProto selfTestData */
            selfTestData?: (sentencepiece.SelfTestData.$Properties|null);

            /** ModelProto denormalizerSpec */
            denormalizerSpec?: (sentencepiece.NormalizerSpec.$Properties|null);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];
        }

        /** Shape of a ModelProto. */
        type $Shape = sentencepiece.ModelProto.$Properties;

        /**
         * Properties of a SentencePiece.
         * @deprecated Use sentencepiece.ModelProto.SentencePiece.$Properties instead.
         */
        interface ISentencePiece extends sentencepiece.ModelProto.SentencePiece.$Properties {
        }

        /** Represents a SentencePiece. */
        class SentencePiece {

            /**
             * Constructs a new SentencePiece.
             * @param [properties] Properties to set
             */
            constructor(properties?: sentencepiece.ModelProto.SentencePiece.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** SentencePiece piece. */
            piece: string;

            /** SentencePiece score. */
            score: number;

            /** SentencePiece type. */
            type: sentencepiece.ModelProto.SentencePiece.Type;

            /**
             * Creates a new SentencePiece instance using the specified properties.
             * @param [properties] Properties to set
             * @returns SentencePiece instance
             */
            static create(properties: sentencepiece.ModelProto.SentencePiece.$Shape): sentencepiece.ModelProto.SentencePiece & sentencepiece.ModelProto.SentencePiece.$Shape;
            static create(properties?: sentencepiece.ModelProto.SentencePiece.$Properties): sentencepiece.ModelProto.SentencePiece;

            /**
             * Encodes the specified SentencePiece message. Does not implicitly {@link sentencepiece.ModelProto.SentencePiece.verify|verify} messages.
             * @param message SentencePiece message or plain object to encode
             * @param [writer] Writer to encode to
             * @returns Writer
             */
            static encode(message: sentencepiece.ModelProto.SentencePiece.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a SentencePiece message from the specified reader or buffer.
             * @param reader Reader or buffer to decode from
             * @param [length] Message length if known beforehand
             * @returns {sentencepiece.ModelProto.SentencePiece & sentencepiece.ModelProto.SentencePiece.$Shape} SentencePiece
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): sentencepiece.ModelProto.SentencePiece & sentencepiece.ModelProto.SentencePiece.$Shape;
        }

        namespace SentencePiece {

            /** Properties of a SentencePiece. */
            interface $Properties {

                /** SentencePiece piece */
                piece?: (string|null);

                /** SentencePiece score */
                score?: (number|null);

                /** SentencePiece type */
                type?: (sentencepiece.ModelProto.SentencePiece.Type|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a SentencePiece. */
            type $Shape = sentencepiece.ModelProto.SentencePiece.$Properties;

            /** Type enum. */
            enum Type {

                /** NORMAL value */
                NORMAL = 1,

                /** UNKNOWN value */
                UNKNOWN = 2,

                /** CONTROL value */
                CONTROL = 3,

                /** USER_DEFINED value */
                USER_DEFINED = 4,

                /** BYTE value */
                BYTE = 6,

                /** UNUSED value */
                UNUSED = 5
            }
        }
    }
}
