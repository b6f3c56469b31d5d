/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-mixed-operators, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars, default-case, jsdoc/require-param*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;
const $Object = $util.global.Object, $undefined = $util.global.undefined, $Error = $util.global.Error, $RangeError = $util.global.RangeError;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const sentencepiece = $root.sentencepiece = (() => {

    /**
     * Namespace sentencepiece.
     * @exports sentencepiece
     * @namespace
     */
    const sentencepiece = {};

    sentencepiece.TrainerSpec = (function() {

        /**
         * Properties of a TrainerSpec.
         * @typedef {Object} sentencepiece.TrainerSpec.$Properties
         * @property {Array.<string>|null} [input] TrainerSpec input
         * @property {string|null} [inputFormat] TrainerSpec inputFormat
         * @property {string|null} [modelPrefix] TrainerSpec modelPrefix
         * @property {sentencepiece.TrainerSpec.ModelType|null} [modelType] TrainerSpec modelType
         * @property {number|null} [vocabSize] TrainerSpec vocabSize
         * @property {Array.<string>|null} [acceptLanguage] TrainerSpec acceptLanguage
         * @property {number|null} [selfTestSampleSize] TrainerSpec selfTestSampleSize
         * @property {boolean|null} [enableDifferentialPrivacy] TrainerSpec enableDifferentialPrivacy
         * @property {number|null} [differentialPrivacyNoiseLevel] TrainerSpec differentialPrivacyNoiseLevel
         * @property {number|Long|null} [differentialPrivacyClippingThreshold] TrainerSpec differentialPrivacyClippingThreshold
         * @property {number|null} [characterCoverage] TrainerSpec characterCoverage
         * @property {number|Long|null} [inputSentenceSize] TrainerSpec inputSentenceSize
         * @property {boolean|null} [shuffleInputSentence] TrainerSpec shuffleInputSentence
         * @property {number|null} [miningSentenceSize] TrainerSpec miningSentenceSize
         * @property {number|null} [trainingSentenceSize] TrainerSpec trainingSentenceSize
         * @property {number|null} [seedSentencepieceSize] TrainerSpec seedSentencepieceSize
         * @property {number|null} [shrinkingFactor] TrainerSpec shrinkingFactor
         * @property {number|null} [maxSentenceLength] TrainerSpec maxSentenceLength
         * @property {number|null} [numThreads] TrainerSpec numThreads
         * @property {number|null} [numSubIterations] TrainerSpec numSubIterations
         * @property {number|null} [maxSentencepieceLength] TrainerSpec maxSentencepieceLength
         * @property {boolean|null} [splitByUnicodeScript] TrainerSpec splitByUnicodeScript
         * @property {boolean|null} [splitByNumber] TrainerSpec splitByNumber
         * @property {boolean|null} [splitByWhitespace] TrainerSpec splitByWhitespace
         * @property {boolean|null} [treatWhitespaceAsSuffix] TrainerSpec treatWhitespaceAsSuffix
         * @property {boolean|null} [allowWhitespaceOnlyPieces] TrainerSpec allowWhitespaceOnlyPieces
         * @property {boolean|null} [splitDigits] TrainerSpec splitDigits
         * @property {string|null} [pretokenizationDelimiter] TrainerSpec pretokenizationDelimiter
         * @property {Array.<string>|null} [controlSymbols] TrainerSpec controlSymbols
         * @property {Array.<string>|null} [userDefinedSymbols] TrainerSpec userDefinedSymbols
         * @property {string|null} [requiredChars] TrainerSpec requiredChars
         * @property {boolean|null} [byteFallback] TrainerSpec byteFallback
         * @property {boolean|null} [vocabularyOutputPieceScore] TrainerSpec vocabularyOutputPieceScore
         * @property {boolean|null} [hardVocabLimit] TrainerSpec hardVocabLimit
         * @property {boolean|null} [useAllVocab] TrainerSpec useAllVocab
         * @property {number|null} [unkId] TrainerSpec unkId
         * @property {number|null} [bosId] TrainerSpec bosId
         * @property {number|null} [eosId] TrainerSpec eosId
         * @property {number|null} [padId] TrainerSpec padId
         * @property {string|null} [unkPiece] TrainerSpec unkPiece
         * @property {string|null} [bosPiece] TrainerSpec bosPiece
         * @property {string|null} [eosPiece] TrainerSpec eosPiece
         * @property {string|null} [padPiece] TrainerSpec padPiece
         * @property {string|null} [unkSurface] TrainerSpec unkSurface
         * @property {boolean|null} [trainExtremelyLargeCorpus] TrainerSpec trainExtremelyLargeCorpus
         * @property {string|null} [seedSentencepiecesFile] TrainerSpec seedSentencepiecesFile
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a TrainerSpec.
         * @memberof sentencepiece
         * @interface ITrainerSpec
         * @augments sentencepiece.TrainerSpec.$Properties
         * @deprecated Use sentencepiece.TrainerSpec.$Properties instead.
         */

        /**
         * Shape of a TrainerSpec.
         * @typedef {sentencepiece.TrainerSpec.$Properties} sentencepiece.TrainerSpec.$Shape
         */

        /**
         * Constructs a new TrainerSpec.
         * @memberof sentencepiece
         * @classdesc Represents a TrainerSpec.
         * @constructor
         * @param {sentencepiece.TrainerSpec.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const TrainerSpec = function (properties) {
            this.input = [];
            this.acceptLanguage = [];
            this.controlSymbols = [];
            this.userDefinedSymbols = [];
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * TrainerSpec input.
         * @member {Array.<string>} input
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.input = $util.emptyArray;

        /**
         * TrainerSpec inputFormat.
         * @member {string} inputFormat
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.inputFormat = "";

        /**
         * TrainerSpec modelPrefix.
         * @member {string} modelPrefix
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.modelPrefix = "";

        /**
         * TrainerSpec modelType.
         * @member {sentencepiece.TrainerSpec.ModelType} modelType
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.modelType = 1;

        /**
         * TrainerSpec vocabSize.
         * @member {number} vocabSize
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.vocabSize = 8000;

        /**
         * TrainerSpec acceptLanguage.
         * @member {Array.<string>} acceptLanguage
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.acceptLanguage = $util.emptyArray;

        /**
         * TrainerSpec selfTestSampleSize.
         * @member {number} selfTestSampleSize
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.selfTestSampleSize = 0;

        /**
         * TrainerSpec enableDifferentialPrivacy.
         * @member {boolean} enableDifferentialPrivacy
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.enableDifferentialPrivacy = false;

        /**
         * TrainerSpec differentialPrivacyNoiseLevel.
         * @member {number} differentialPrivacyNoiseLevel
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.differentialPrivacyNoiseLevel = 0;

        /**
         * TrainerSpec differentialPrivacyClippingThreshold.
         * @member {number|Long} differentialPrivacyClippingThreshold
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.differentialPrivacyClippingThreshold = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * TrainerSpec characterCoverage.
         * @member {number} characterCoverage
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.characterCoverage = 0.9995;

        /**
         * TrainerSpec inputSentenceSize.
         * @member {number|Long} inputSentenceSize
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.inputSentenceSize = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

        /**
         * TrainerSpec shuffleInputSentence.
         * @member {boolean} shuffleInputSentence
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.shuffleInputSentence = true;

        /**
         * TrainerSpec miningSentenceSize.
         * @member {number} miningSentenceSize
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.miningSentenceSize = 0;

        /**
         * TrainerSpec trainingSentenceSize.
         * @member {number} trainingSentenceSize
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.trainingSentenceSize = 0;

        /**
         * TrainerSpec seedSentencepieceSize.
         * @member {number} seedSentencepieceSize
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.seedSentencepieceSize = 1000000;

        /**
         * TrainerSpec shrinkingFactor.
         * @member {number} shrinkingFactor
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.shrinkingFactor = 0.75;

        /**
         * TrainerSpec maxSentenceLength.
         * @member {number} maxSentenceLength
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.maxSentenceLength = 4192;

        /**
         * TrainerSpec numThreads.
         * @member {number} numThreads
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.numThreads = 16;

        /**
         * TrainerSpec numSubIterations.
         * @member {number} numSubIterations
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.numSubIterations = 2;

        /**
         * TrainerSpec maxSentencepieceLength.
         * @member {number} maxSentencepieceLength
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.maxSentencepieceLength = 16;

        /**
         * TrainerSpec splitByUnicodeScript.
         * @member {boolean} splitByUnicodeScript
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.splitByUnicodeScript = true;

        /**
         * TrainerSpec splitByNumber.
         * @member {boolean} splitByNumber
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.splitByNumber = true;

        /**
         * TrainerSpec splitByWhitespace.
         * @member {boolean} splitByWhitespace
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.splitByWhitespace = true;

        /**
         * TrainerSpec treatWhitespaceAsSuffix.
         * @member {boolean} treatWhitespaceAsSuffix
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.treatWhitespaceAsSuffix = false;

        /**
         * TrainerSpec allowWhitespaceOnlyPieces.
         * @member {boolean} allowWhitespaceOnlyPieces
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.allowWhitespaceOnlyPieces = false;

        /**
         * TrainerSpec splitDigits.
         * @member {boolean} splitDigits
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.splitDigits = false;

        /**
         * TrainerSpec pretokenizationDelimiter.
         * @member {string} pretokenizationDelimiter
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.pretokenizationDelimiter = "";

        /**
         * TrainerSpec controlSymbols.
         * @member {Array.<string>} controlSymbols
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.controlSymbols = $util.emptyArray;

        /**
         * TrainerSpec userDefinedSymbols.
         * @member {Array.<string>} userDefinedSymbols
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.userDefinedSymbols = $util.emptyArray;

        /**
         * TrainerSpec requiredChars.
         * @member {string} requiredChars
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.requiredChars = "";

        /**
         * TrainerSpec byteFallback.
         * @member {boolean} byteFallback
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.byteFallback = false;

        /**
         * TrainerSpec vocabularyOutputPieceScore.
         * @member {boolean} vocabularyOutputPieceScore
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.vocabularyOutputPieceScore = true;

        /**
         * TrainerSpec hardVocabLimit.
         * @member {boolean} hardVocabLimit
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.hardVocabLimit = true;

        /**
         * TrainerSpec useAllVocab.
         * @member {boolean} useAllVocab
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.useAllVocab = false;

        /**
         * TrainerSpec unkId.
         * @member {number} unkId
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.unkId = 0;

        /**
         * TrainerSpec bosId.
         * @member {number} bosId
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.bosId = 1;

        /**
         * TrainerSpec eosId.
         * @member {number} eosId
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.eosId = 2;

        /**
         * TrainerSpec padId.
         * @member {number} padId
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.padId = -1;

        /**
         * TrainerSpec unkPiece.
         * @member {string} unkPiece
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.unkPiece = "<unk>";

        /**
         * TrainerSpec bosPiece.
         * @member {string} bosPiece
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.bosPiece = "<s>";

        /**
         * TrainerSpec eosPiece.
         * @member {string} eosPiece
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.eosPiece = "</s>";

        /**
         * TrainerSpec padPiece.
         * @member {string} padPiece
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.padPiece = "<pad>";

        /**
         * TrainerSpec unkSurface.
         * @member {string} unkSurface
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.unkSurface = " â ";

        /**
         * TrainerSpec trainExtremelyLargeCorpus.
         * @member {boolean} trainExtremelyLargeCorpus
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.trainExtremelyLargeCorpus = false;

        /**
         * TrainerSpec seedSentencepiecesFile.
         * @member {string} seedSentencepiecesFile
         * @memberof sentencepiece.TrainerSpec
         * @instance
         */
        TrainerSpec.prototype.seedSentencepiecesFile = "";

        /**
         * Creates a new TrainerSpec instance using the specified properties.
         * @function create
         * @memberof sentencepiece.TrainerSpec
         * @static
         * @param {sentencepiece.TrainerSpec.$Properties=} [properties] Properties to set
         * @returns {sentencepiece.TrainerSpec} TrainerSpec instance
         * @type {{
         *   (properties: sentencepiece.TrainerSpec.$Shape): sentencepiece.TrainerSpec & sentencepiece.TrainerSpec.$Shape;
         *   (properties?: sentencepiece.TrainerSpec.$Properties): sentencepiece.TrainerSpec;
         * }}
         */
        TrainerSpec.create = function(properties) {
            return new TrainerSpec(properties);
        };

        /**
         * Encodes the specified TrainerSpec message. Does not implicitly {@link sentencepiece.TrainerSpec.verify|verify} messages.
         * @function encode
         * @memberof sentencepiece.TrainerSpec
         * @static
         * @param {sentencepiece.TrainerSpec.$Properties} message TrainerSpec message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        TrainerSpec.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.input != null && message.input.length)
                for (let i = 0; i < message.input.length; ++i)
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.input[i]);
            if (message.modelPrefix != null && $Object.hasOwnProperty.call(message, "modelPrefix"))
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.modelPrefix);
            if (message.modelType != null && $Object.hasOwnProperty.call(message, "modelType"))
                writer.uint32(/* id 3, wireType 0 =*/24).int32(message.modelType);
            if (message.vocabSize != null && $Object.hasOwnProperty.call(message, "vocabSize"))
                writer.uint32(/* id 4, wireType 0 =*/32).int32(message.vocabSize);
            if (message.acceptLanguage != null && message.acceptLanguage.length)
                for (let i = 0; i < message.acceptLanguage.length; ++i)
                    writer.uint32(/* id 5, wireType 2 =*/42).string(message.acceptLanguage[i]);
            if (message.selfTestSampleSize != null && $Object.hasOwnProperty.call(message, "selfTestSampleSize"))
                writer.uint32(/* id 6, wireType 0 =*/48).int32(message.selfTestSampleSize);
            if (message.inputFormat != null && $Object.hasOwnProperty.call(message, "inputFormat"))
                writer.uint32(/* id 7, wireType 2 =*/58).string(message.inputFormat);
            if (message.characterCoverage != null && $Object.hasOwnProperty.call(message, "characterCoverage"))
                writer.uint32(/* id 10, wireType 5 =*/85).float(message.characterCoverage);
            if (message.inputSentenceSize != null && $Object.hasOwnProperty.call(message, "inputSentenceSize"))
                writer.uint32(/* id 11, wireType 0 =*/88).uint64(message.inputSentenceSize);
            if (message.miningSentenceSize != null && $Object.hasOwnProperty.call(message, "miningSentenceSize"))
                writer.uint32(/* id 12, wireType 0 =*/96).int32(message.miningSentenceSize);
            if (message.trainingSentenceSize != null && $Object.hasOwnProperty.call(message, "trainingSentenceSize"))
                writer.uint32(/* id 13, wireType 0 =*/104).int32(message.trainingSentenceSize);
            if (message.seedSentencepieceSize != null && $Object.hasOwnProperty.call(message, "seedSentencepieceSize"))
                writer.uint32(/* id 14, wireType 0 =*/112).int32(message.seedSentencepieceSize);
            if (message.shrinkingFactor != null && $Object.hasOwnProperty.call(message, "shrinkingFactor"))
                writer.uint32(/* id 15, wireType 5 =*/125).float(message.shrinkingFactor);
            if (message.numThreads != null && $Object.hasOwnProperty.call(message, "numThreads"))
                writer.uint32(/* id 16, wireType 0 =*/128).int32(message.numThreads);
            if (message.numSubIterations != null && $Object.hasOwnProperty.call(message, "numSubIterations"))
                writer.uint32(/* id 17, wireType 0 =*/136).int32(message.numSubIterations);
            if (message.maxSentenceLength != null && $Object.hasOwnProperty.call(message, "maxSentenceLength"))
                writer.uint32(/* id 18, wireType 0 =*/144).int32(message.maxSentenceLength);
            if (message.shuffleInputSentence != null && $Object.hasOwnProperty.call(message, "shuffleInputSentence"))
                writer.uint32(/* id 19, wireType 0 =*/152).bool(message.shuffleInputSentence);
            if (message.maxSentencepieceLength != null && $Object.hasOwnProperty.call(message, "maxSentencepieceLength"))
                writer.uint32(/* id 20, wireType 0 =*/160).int32(message.maxSentencepieceLength);
            if (message.splitByUnicodeScript != null && $Object.hasOwnProperty.call(message, "splitByUnicodeScript"))
                writer.uint32(/* id 21, wireType 0 =*/168).bool(message.splitByUnicodeScript);
            if (message.splitByWhitespace != null && $Object.hasOwnProperty.call(message, "splitByWhitespace"))
                writer.uint32(/* id 22, wireType 0 =*/176).bool(message.splitByWhitespace);
            if (message.splitByNumber != null && $Object.hasOwnProperty.call(message, "splitByNumber"))
                writer.uint32(/* id 23, wireType 0 =*/184).bool(message.splitByNumber);
            if (message.treatWhitespaceAsSuffix != null && $Object.hasOwnProperty.call(message, "treatWhitespaceAsSuffix"))
                writer.uint32(/* id 24, wireType 0 =*/192).bool(message.treatWhitespaceAsSuffix);
            if (message.splitDigits != null && $Object.hasOwnProperty.call(message, "splitDigits"))
                writer.uint32(/* id 25, wireType 0 =*/200).bool(message.splitDigits);
            if (message.allowWhitespaceOnlyPieces != null && $Object.hasOwnProperty.call(message, "allowWhitespaceOnlyPieces"))
                writer.uint32(/* id 26, wireType 0 =*/208).bool(message.allowWhitespaceOnlyPieces);
            if (message.controlSymbols != null && message.controlSymbols.length)
                for (let i = 0; i < message.controlSymbols.length; ++i)
                    writer.uint32(/* id 30, wireType 2 =*/242).string(message.controlSymbols[i]);
            if (message.userDefinedSymbols != null && message.userDefinedSymbols.length)
                for (let i = 0; i < message.userDefinedSymbols.length; ++i)
                    writer.uint32(/* id 31, wireType 2 =*/250).string(message.userDefinedSymbols[i]);
            if (message.vocabularyOutputPieceScore != null && $Object.hasOwnProperty.call(message, "vocabularyOutputPieceScore"))
                writer.uint32(/* id 32, wireType 0 =*/256).bool(message.vocabularyOutputPieceScore);
            if (message.hardVocabLimit != null && $Object.hasOwnProperty.call(message, "hardVocabLimit"))
                writer.uint32(/* id 33, wireType 0 =*/264).bool(message.hardVocabLimit);
            if (message.useAllVocab != null && $Object.hasOwnProperty.call(message, "useAllVocab"))
                writer.uint32(/* id 34, wireType 0 =*/272).bool(message.useAllVocab);
            if (message.byteFallback != null && $Object.hasOwnProperty.call(message, "byteFallback"))
                writer.uint32(/* id 35, wireType 0 =*/280).bool(message.byteFallback);
            if (message.requiredChars != null && $Object.hasOwnProperty.call(message, "requiredChars"))
                writer.uint32(/* id 36, wireType 2 =*/290).string(message.requiredChars);
            if (message.unkId != null && $Object.hasOwnProperty.call(message, "unkId"))
                writer.uint32(/* id 40, wireType 0 =*/320).int32(message.unkId);
            if (message.bosId != null && $Object.hasOwnProperty.call(message, "bosId"))
                writer.uint32(/* id 41, wireType 0 =*/328).int32(message.bosId);
            if (message.eosId != null && $Object.hasOwnProperty.call(message, "eosId"))
                writer.uint32(/* id 42, wireType 0 =*/336).int32(message.eosId);
            if (message.padId != null && $Object.hasOwnProperty.call(message, "padId"))
                writer.uint32(/* id 43, wireType 0 =*/344).int32(message.padId);
            if (message.unkSurface != null && $Object.hasOwnProperty.call(message, "unkSurface"))
                writer.uint32(/* id 44, wireType 2 =*/354).string(message.unkSurface);
            if (message.unkPiece != null && $Object.hasOwnProperty.call(message, "unkPiece"))
                writer.uint32(/* id 45, wireType 2 =*/362).string(message.unkPiece);
            if (message.bosPiece != null && $Object.hasOwnProperty.call(message, "bosPiece"))
                writer.uint32(/* id 46, wireType 2 =*/370).string(message.bosPiece);
            if (message.eosPiece != null && $Object.hasOwnProperty.call(message, "eosPiece"))
                writer.uint32(/* id 47, wireType 2 =*/378).string(message.eosPiece);
            if (message.padPiece != null && $Object.hasOwnProperty.call(message, "padPiece"))
                writer.uint32(/* id 48, wireType 2 =*/386).string(message.padPiece);
            if (message.trainExtremelyLargeCorpus != null && $Object.hasOwnProperty.call(message, "trainExtremelyLargeCorpus"))
                writer.uint32(/* id 49, wireType 0 =*/392).bool(message.trainExtremelyLargeCorpus);
            if (message.enableDifferentialPrivacy != null && $Object.hasOwnProperty.call(message, "enableDifferentialPrivacy"))
                writer.uint32(/* id 50, wireType 0 =*/400).bool(message.enableDifferentialPrivacy);
            if (message.differentialPrivacyNoiseLevel != null && $Object.hasOwnProperty.call(message, "differentialPrivacyNoiseLevel"))
                writer.uint32(/* id 51, wireType 5 =*/413).float(message.differentialPrivacyNoiseLevel);
            if (message.differentialPrivacyClippingThreshold != null && $Object.hasOwnProperty.call(message, "differentialPrivacyClippingThreshold"))
                writer.uint32(/* id 52, wireType 0 =*/416).uint64(message.differentialPrivacyClippingThreshold);
            if (message.pretokenizationDelimiter != null && $Object.hasOwnProperty.call(message, "pretokenizationDelimiter"))
                writer.uint32(/* id 53, wireType 2 =*/426).string(message.pretokenizationDelimiter);
            if (message.seedSentencepiecesFile != null && $Object.hasOwnProperty.call(message, "seedSentencepiecesFile"))
                writer.uint32(/* id 54, wireType 2 =*/434).string(message.seedSentencepiecesFile);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a TrainerSpec message from the specified reader or buffer.
         * @function decode
         * @memberof sentencepiece.TrainerSpec
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {sentencepiece.TrainerSpec & sentencepiece.TrainerSpec.$Shape} TrainerSpec
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        TrainerSpec.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.sentencepiece.TrainerSpec();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        if (!(message.input && message.input.length))
                            message.input = [];
                        message.input.push(reader.string());
                        continue;
                    }
                case 7: {
                        if (wireType !== 2)
                            break;
                        message.inputFormat = reader.string();
                        continue;
                    }
                case 2: {
                        if (wireType !== 2)
                            break;
                        message.modelPrefix = reader.string();
                        continue;
                    }
                case 3: {
                        if (wireType !== 0)
                            break;
                        value = reader.int32();
                        if ($root.sentencepiece.TrainerSpec.ModelType[value] !== $undefined)
                            message.modelType = value;
                        else if (!reader.discardUnknown) {
                            $util.makeProp(message, "$unknowns", false);
                            (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                        }
                        continue;
                    }
                case 4: {
                        if (wireType !== 0)
                            break;
                        message.vocabSize = reader.int32();
                        continue;
                    }
                case 5: {
                        if (wireType !== 2)
                            break;
                        if (!(message.acceptLanguage && message.acceptLanguage.length))
                            message.acceptLanguage = [];
                        message.acceptLanguage.push(reader.string());
                        continue;
                    }
                case 6: {
                        if (wireType !== 0)
                            break;
                        message.selfTestSampleSize = reader.int32();
                        continue;
                    }
                case 50: {
                        if (wireType !== 0)
                            break;
                        message.enableDifferentialPrivacy = reader.bool();
                        continue;
                    }
                case 51: {
                        if (wireType !== 5)
                            break;
                        message.differentialPrivacyNoiseLevel = reader.float();
                        continue;
                    }
                case 52: {
                        if (wireType !== 0)
                            break;
                        message.differentialPrivacyClippingThreshold = reader.uint64();
                        continue;
                    }
                case 10: {
                        if (wireType !== 5)
                            break;
                        message.characterCoverage = reader.float();
                        continue;
                    }
                case 11: {
                        if (wireType !== 0)
                            break;
                        message.inputSentenceSize = reader.uint64();
                        continue;
                    }
                case 19: {
                        if (wireType !== 0)
                            break;
                        message.shuffleInputSentence = reader.bool();
                        continue;
                    }
                case 12: {
                        if (wireType !== 0)
                            break;
                        message.miningSentenceSize = reader.int32();
                        continue;
                    }
                case 13: {
                        if (wireType !== 0)
                            break;
                        message.trainingSentenceSize = reader.int32();
                        continue;
                    }
                case 14: {
                        if (wireType !== 0)
                            break;
                        message.seedSentencepieceSize = reader.int32();
                        continue;
                    }
                case 15: {
                        if (wireType !== 5)
                            break;
                        message.shrinkingFactor = reader.float();
                        continue;
                    }
                case 18: {
                        if (wireType !== 0)
                            break;
                        message.maxSentenceLength = reader.int32();
                        continue;
                    }
                case 16: {
                        if (wireType !== 0)
                            break;
                        message.numThreads = reader.int32();
                        continue;
                    }
                case 17: {
                        if (wireType !== 0)
                            break;
                        message.numSubIterations = reader.int32();
                        continue;
                    }
                case 20: {
                        if (wireType !== 0)
                            break;
                        message.maxSentencepieceLength = reader.int32();
                        continue;
                    }
                case 21: {
                        if (wireType !== 0)
                            break;
                        message.splitByUnicodeScript = reader.bool();
                        continue;
                    }
                case 23: {
                        if (wireType !== 0)
                            break;
                        message.splitByNumber = reader.bool();
                        continue;
                    }
                case 22: {
                        if (wireType !== 0)
                            break;
                        message.splitByWhitespace = reader.bool();
                        continue;
                    }
                case 24: {
                        if (wireType !== 0)
                            break;
                        message.treatWhitespaceAsSuffix = reader.bool();
                        continue;
                    }
                case 26: {
                        if (wireType !== 0)
                            break;
                        message.allowWhitespaceOnlyPieces = reader.bool();
                        continue;
                    }
                case 25: {
                        if (wireType !== 0)
                            break;
                        message.splitDigits = reader.bool();
                        continue;
                    }
                case 53: {
                        if (wireType !== 2)
                            break;
                        message.pretokenizationDelimiter = reader.string();
                        continue;
                    }
                case 30: {
                        if (wireType !== 2)
                            break;
                        if (!(message.controlSymbols && message.controlSymbols.length))
                            message.controlSymbols = [];
                        message.controlSymbols.push(reader.string());
                        continue;
                    }
                case 31: {
                        if (wireType !== 2)
                            break;
                        if (!(message.userDefinedSymbols && message.userDefinedSymbols.length))
                            message.userDefinedSymbols = [];
                        message.userDefinedSymbols.push(reader.string());
                        continue;
                    }
                case 36: {
                        if (wireType !== 2)
                            break;
                        message.requiredChars = reader.string();
                        continue;
                    }
                case 35: {
                        if (wireType !== 0)
                            break;
                        message.byteFallback = reader.bool();
                        continue;
                    }
                case 32: {
                        if (wireType !== 0)
                            break;
                        message.vocabularyOutputPieceScore = reader.bool();
                        continue;
                    }
                case 33: {
                        if (wireType !== 0)
                            break;
                        message.hardVocabLimit = reader.bool();
                        continue;
                    }
                case 34: {
                        if (wireType !== 0)
                            break;
                        message.useAllVocab = reader.bool();
                        continue;
                    }
                case 40: {
                        if (wireType !== 0)
                            break;
                        message.unkId = reader.int32();
                        continue;
                    }
                case 41: {
                        if (wireType !== 0)
                            break;
                        message.bosId = reader.int32();
                        continue;
                    }
                case 42: {
                        if (wireType !== 0)
                            break;
                        message.eosId = reader.int32();
                        continue;
                    }
                case 43: {
                        if (wireType !== 0)
                            break;
                        message.padId = reader.int32();
                        continue;
                    }
                case 45: {
                        if (wireType !== 2)
                            break;
                        message.unkPiece = reader.string();
                        continue;
                    }
                case 46: {
                        if (wireType !== 2)
                            break;
                        message.bosPiece = reader.string();
                        continue;
                    }
                case 47: {
                        if (wireType !== 2)
                            break;
                        message.eosPiece = reader.string();
                        continue;
                    }
                case 48: {
                        if (wireType !== 2)
                            break;
                        message.padPiece = reader.string();
                        continue;
                    }
                case 44: {
                        if (wireType !== 2)
                            break;
                        message.unkSurface = reader.string();
                        continue;
                    }
                case 49: {
                        if (wireType !== 0)
                            break;
                        message.trainExtremelyLargeCorpus = reader.bool();
                        continue;
                    }
                case 54: {
                        if (wireType !== 2)
                            break;
                        message.seedSentencepiecesFile = reader.string();
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        /**
         * ModelType enum.
         * @name sentencepiece.TrainerSpec.ModelType
         * @enum {number}
         * @property {number} UNIGRAM=1 UNIGRAM value
         * @property {number} BPE=2 BPE value
         * @property {number} WORD=3 WORD value
         * @property {number} CHAR=4 CHAR value
         */
        TrainerSpec.ModelType = (function() {
            const valuesById = $Object.create(null), values = $Object.create(valuesById);
            values[valuesById[1] = "UNIGRAM"] = 1;
            values[valuesById[2] = "BPE"] = 2;
            values[valuesById[3] = "WORD"] = 3;
            values[valuesById[4] = "CHAR"] = 4;
            return values;
        })();

        return TrainerSpec;
    })();

    sentencepiece.NormalizerSpec = (function() {

        /**
         * Properties of a NormalizerSpec.
         * @typedef {Object} sentencepiece.NormalizerSpec.$Properties
         * @property {string|null} [name] NormalizerSpec name
         * @property {Uint8Array|null} [precompiledCharsmap] NormalizerSpec precompiledCharsmap
         * @property {boolean|null} [addDummyPrefix] NormalizerSpec addDummyPrefix
         * @property {boolean|null} [removeExtraWhitespaces] NormalizerSpec removeExtraWhitespaces
         * @property {boolean|null} [escapeWhitespaces] NormalizerSpec escapeWhitespaces
         * @property {string|null} [normalizationRuleTsv] NormalizerSpec normalizationRuleTsv
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a NormalizerSpec.
         * @memberof sentencepiece
         * @interface INormalizerSpec
         * @augments sentencepiece.NormalizerSpec.$Properties
         * @deprecated Use sentencepiece.NormalizerSpec.$Properties instead.
         */

        /**
         * Shape of a NormalizerSpec.
         * @typedef {sentencepiece.NormalizerSpec.$Properties} sentencepiece.NormalizerSpec.$Shape
         */

        /**
         * Constructs a new NormalizerSpec.
         * @memberof sentencepiece
         * @classdesc Represents a NormalizerSpec.
         * @constructor
         * @param {sentencepiece.NormalizerSpec.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const NormalizerSpec = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * NormalizerSpec name.
         * @member {string} name
         * @memberof sentencepiece.NormalizerSpec
         * @instance
         */
        NormalizerSpec.prototype.name = "";

        /**
         * NormalizerSpec precompiledCharsmap.
         * @member {Uint8Array} precompiledCharsmap
         * @memberof sentencepiece.NormalizerSpec
         * @instance
         */
        NormalizerSpec.prototype.precompiledCharsmap = $util.newBuffer([]);

        /**
         * NormalizerSpec addDummyPrefix.
         * @member {boolean} addDummyPrefix
         * @memberof sentencepiece.NormalizerSpec
         * @instance
         */
        NormalizerSpec.prototype.addDummyPrefix = true;

        /**
         * NormalizerSpec removeExtraWhitespaces.
         * @member {boolean} removeExtraWhitespaces
         * @memberof sentencepiece.NormalizerSpec
         * @instance
         */
        NormalizerSpec.prototype.removeExtraWhitespaces = true;

        /**
         * NormalizerSpec escapeWhitespaces.
         * @member {boolean} escapeWhitespaces
         * @memberof sentencepiece.NormalizerSpec
         * @instance
         */
        NormalizerSpec.prototype.escapeWhitespaces = true;

        /**
         * NormalizerSpec normalizationRuleTsv.
         * @member {string} normalizationRuleTsv
         * @memberof sentencepiece.NormalizerSpec
         * @instance
         */
        NormalizerSpec.prototype.normalizationRuleTsv = "";

        /**
         * Creates a new NormalizerSpec instance using the specified properties.
         * @function create
         * @memberof sentencepiece.NormalizerSpec
         * @static
         * @param {sentencepiece.NormalizerSpec.$Properties=} [properties] Properties to set
         * @returns {sentencepiece.NormalizerSpec} NormalizerSpec instance
         * @type {{
         *   (properties: sentencepiece.NormalizerSpec.$Shape): sentencepiece.NormalizerSpec & sentencepiece.NormalizerSpec.$Shape;
         *   (properties?: sentencepiece.NormalizerSpec.$Properties): sentencepiece.NormalizerSpec;
         * }}
         */
        NormalizerSpec.create = function(properties) {
            return new NormalizerSpec(properties);
        };

        /**
         * Encodes the specified NormalizerSpec message. Does not implicitly {@link sentencepiece.NormalizerSpec.verify|verify} messages.
         * @function encode
         * @memberof sentencepiece.NormalizerSpec
         * @static
         * @param {sentencepiece.NormalizerSpec.$Properties} message NormalizerSpec message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        NormalizerSpec.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.name != null && $Object.hasOwnProperty.call(message, "name"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.name);
            if (message.precompiledCharsmap != null && $Object.hasOwnProperty.call(message, "precompiledCharsmap"))
                writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.precompiledCharsmap);
            if (message.addDummyPrefix != null && $Object.hasOwnProperty.call(message, "addDummyPrefix"))
                writer.uint32(/* id 3, wireType 0 =*/24).bool(message.addDummyPrefix);
            if (message.removeExtraWhitespaces != null && $Object.hasOwnProperty.call(message, "removeExtraWhitespaces"))
                writer.uint32(/* id 4, wireType 0 =*/32).bool(message.removeExtraWhitespaces);
            if (message.escapeWhitespaces != null && $Object.hasOwnProperty.call(message, "escapeWhitespaces"))
                writer.uint32(/* id 5, wireType 0 =*/40).bool(message.escapeWhitespaces);
            if (message.normalizationRuleTsv != null && $Object.hasOwnProperty.call(message, "normalizationRuleTsv"))
                writer.uint32(/* id 6, wireType 2 =*/50).string(message.normalizationRuleTsv);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a NormalizerSpec message from the specified reader or buffer.
         * @function decode
         * @memberof sentencepiece.NormalizerSpec
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {sentencepiece.NormalizerSpec & sentencepiece.NormalizerSpec.$Shape} NormalizerSpec
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        NormalizerSpec.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.sentencepiece.NormalizerSpec();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        message.name = reader.string();
                        continue;
                    }
                case 2: {
                        if (wireType !== 2)
                            break;
                        message.precompiledCharsmap = reader.bytes();
                        continue;
                    }
                case 3: {
                        if (wireType !== 0)
                            break;
                        message.addDummyPrefix = reader.bool();
                        continue;
                    }
                case 4: {
                        if (wireType !== 0)
                            break;
                        message.removeExtraWhitespaces = reader.bool();
                        continue;
                    }
                case 5: {
                        if (wireType !== 0)
                            break;
                        message.escapeWhitespaces = reader.bool();
                        continue;
                    }
                case 6: {
                        if (wireType !== 2)
                            break;
                        message.normalizationRuleTsv = reader.string();
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        return NormalizerSpec;
    })();

    sentencepiece.SelfTestData = (function() {

        /**
         * Properties of a SelfTestData.
         * @typedef {Object} sentencepiece.SelfTestData.$Properties
         * @property {Array.<sentencepiece.SelfTestData.Sample.$Properties>|null} [samples] SelfTestData samples
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a SelfTestData.
         * @memberof sentencepiece
         * @interface ISelfTestData
         * @augments sentencepiece.SelfTestData.$Properties
         * @deprecated Use sentencepiece.SelfTestData.$Properties instead.
         */

        /**
         * Shape of a SelfTestData.
         * @typedef {sentencepiece.SelfTestData.$Properties} sentencepiece.SelfTestData.$Shape
         */

        /**
         * Constructs a new SelfTestData.
         * @memberof sentencepiece
         * @classdesc Represents a SelfTestData.
         * @constructor
         * @param {sentencepiece.SelfTestData.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const SelfTestData = function (properties) {
            this.samples = [];
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * SelfTestData samples.
         * @member {Array.<sentencepiece.SelfTestData.Sample.$Properties>} samples
         * @memberof sentencepiece.SelfTestData
         * @instance
         */
        SelfTestData.prototype.samples = $util.emptyArray;

        /**
         * Creates a new SelfTestData instance using the specified properties.
         * @function create
         * @memberof sentencepiece.SelfTestData
         * @static
         * @param {sentencepiece.SelfTestData.$Properties=} [properties] Properties to set
         * @returns {sentencepiece.SelfTestData} SelfTestData instance
         * @type {{
         *   (properties: sentencepiece.SelfTestData.$Shape): sentencepiece.SelfTestData & sentencepiece.SelfTestData.$Shape;
         *   (properties?: sentencepiece.SelfTestData.$Properties): sentencepiece.SelfTestData;
         * }}
         */
        SelfTestData.create = function(properties) {
            return new SelfTestData(properties);
        };

        /**
         * Encodes the specified SelfTestData message. Does not implicitly {@link sentencepiece.SelfTestData.verify|verify} messages.
         * @function encode
         * @memberof sentencepiece.SelfTestData
         * @static
         * @param {sentencepiece.SelfTestData.$Properties} message SelfTestData message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        SelfTestData.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.samples != null && message.samples.length)
                for (let i = 0; i < message.samples.length; ++i)
                    $root.sentencepiece.SelfTestData.Sample.encode(message.samples[i], writer.uint32(/* id 1, wireType 2 =*/10).fork(), _depth + 1).ldelim();
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a SelfTestData message from the specified reader or buffer.
         * @function decode
         * @memberof sentencepiece.SelfTestData
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {sentencepiece.SelfTestData & sentencepiece.SelfTestData.$Shape} SelfTestData
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        SelfTestData.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.sentencepiece.SelfTestData();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        if (!(message.samples && message.samples.length))
                            message.samples = [];
                        message.samples.push($root.sentencepiece.SelfTestData.Sample.decode(reader, reader.size(), $undefined, _depth + 1));
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        SelfTestData.Sample = (function() {

            /**
             * Properties of a Sample.
             * @typedef {Object} sentencepiece.SelfTestData.Sample.$Properties
             * @property {string|null} [input] Sample input
             * @property {string|null} [expected] Sample expected
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Sample.
             * @memberof sentencepiece.SelfTestData
             * @interface ISample
             * @augments sentencepiece.SelfTestData.Sample.$Properties
             * @deprecated Use sentencepiece.SelfTestData.Sample.$Properties instead.
             */

            /**
             * Shape of a Sample.
             * @typedef {sentencepiece.SelfTestData.Sample.$Properties} sentencepiece.SelfTestData.Sample.$Shape
             */

            /**
             * Constructs a new Sample.
             * @memberof sentencepiece.SelfTestData
             * @classdesc Represents a Sample.
             * @constructor
             * @param {sentencepiece.SelfTestData.Sample.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Sample = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Sample input.
             * @member {string} input
             * @memberof sentencepiece.SelfTestData.Sample
             * @instance
             */
            Sample.prototype.input = "";

            /**
             * Sample expected.
             * @member {string} expected
             * @memberof sentencepiece.SelfTestData.Sample
             * @instance
             */
            Sample.prototype.expected = "";

            /**
             * Creates a new Sample instance using the specified properties.
             * @function create
             * @memberof sentencepiece.SelfTestData.Sample
             * @static
             * @param {sentencepiece.SelfTestData.Sample.$Properties=} [properties] Properties to set
             * @returns {sentencepiece.SelfTestData.Sample} Sample instance
             * @type {{
             *   (properties: sentencepiece.SelfTestData.Sample.$Shape): sentencepiece.SelfTestData.Sample & sentencepiece.SelfTestData.Sample.$Shape;
             *   (properties?: sentencepiece.SelfTestData.Sample.$Properties): sentencepiece.SelfTestData.Sample;
             * }}
             */
            Sample.create = function(properties) {
                return new Sample(properties);
            };

            /**
             * Encodes the specified Sample message. Does not implicitly {@link sentencepiece.SelfTestData.Sample.verify|verify} messages.
             * @function encode
             * @memberof sentencepiece.SelfTestData.Sample
             * @static
             * @param {sentencepiece.SelfTestData.Sample.$Properties} message Sample message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Sample.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.input != null && $Object.hasOwnProperty.call(message, "input"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.input);
                if (message.expected != null && $Object.hasOwnProperty.call(message, "expected"))
                    writer.uint32(/* id 2, wireType 2 =*/18).string(message.expected);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Sample message from the specified reader or buffer.
             * @function decode
             * @memberof sentencepiece.SelfTestData.Sample
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sentencepiece.SelfTestData.Sample & sentencepiece.SelfTestData.Sample.$Shape} Sample
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Sample.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.sentencepiece.SelfTestData.Sample();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            message.input = reader.string();
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            message.expected = reader.string();
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            return Sample;
        })();

        return SelfTestData;
    })();

    sentencepiece.ModelProto = (function() {

        /**
         * Properties of a ModelProto.
         * @typedef {Object} sentencepiece.ModelProto.$Properties
         * @property {Array.<sentencepiece.ModelProto.SentencePiece.$Properties>|null} [pieces] ModelProto pieces
         * @property {sentencepiece.TrainerSpec.$Properties|null} [trainerSpec] ModelProto trainerSpec
         * @property {sentencepiece.NormalizerSpec.$Properties|null} [normalizerSpec] ModelProto normalizerSpec
         * @property {sentencepiece.SelfTestData.$Properties|null} [selfTestData] ModelProto selfTestData
         * @property {sentencepiece.NormalizerSpec.$Properties|null} [denormalizerSpec] ModelProto denormalizerSpec
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a ModelProto.
         * @memberof sentencepiece
         * @interface IModelProto
         * @augments sentencepiece.ModelProto.$Properties
         * @deprecated Use sentencepiece.ModelProto.$Properties instead.
         */

        /**
         * Shape of a ModelProto.
         * @typedef {sentencepiece.ModelProto.$Properties} sentencepiece.ModelProto.$Shape
         */

        /**
         * Constructs a new ModelProto.
         * @memberof sentencepiece
         * @classdesc Represents a ModelProto.
         * @constructor
         * @param {sentencepiece.ModelProto.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const ModelProto = function (properties) {
            this.pieces = [];
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * ModelProto pieces.
         * @member {Array.<sentencepiece.ModelProto.SentencePiece.$Properties>} pieces
         * @memberof sentencepiece.ModelProto
         * @instance
         */
        ModelProto.prototype.pieces = $util.emptyArray;

        /**
         * ModelProto trainerSpec.
         * @member {sentencepiece.TrainerSpec.$Properties|null|undefined} trainerSpec
         * @memberof sentencepiece.ModelProto
         * @instance
         */
        ModelProto.prototype.trainerSpec = null;

        /**
         * ModelProto normalizerSpec.
         * @member {sentencepiece.NormalizerSpec.$Properties|null|undefined} normalizerSpec
         * @memberof sentencepiece.ModelProto
         * @instance
         */
        ModelProto.prototype.normalizerSpec = null;

        /**
         * ModelProto selfTestData.
         * @member {sentencepiece.SelfTestData.$Properties|null|undefined} selfTestData
         * @memberof sentencepiece.ModelProto
         * @instance
         */
        ModelProto.prototype.selfTestData = null;

        /**
         * ModelProto denormalizerSpec.
         * @member {sentencepiece.NormalizerSpec.$Properties|null|undefined} denormalizerSpec
         * @memberof sentencepiece.ModelProto
         * @instance
         */
        ModelProto.prototype.denormalizerSpec = null;

        /**
         * Creates a new ModelProto instance using the specified properties.
         * @function create
         * @memberof sentencepiece.ModelProto
         * @static
         * @param {sentencepiece.ModelProto.$Properties=} [properties] Properties to set
         * @returns {sentencepiece.ModelProto} ModelProto instance
         * @type {{
         *   (properties: sentencepiece.ModelProto.$Shape): sentencepiece.ModelProto & sentencepiece.ModelProto.$Shape;
         *   (properties?: sentencepiece.ModelProto.$Properties): sentencepiece.ModelProto;
         * }}
         */
        ModelProto.create = function(properties) {
            return new ModelProto(properties);
        };

        /**
         * Encodes the specified ModelProto message. Does not implicitly {@link sentencepiece.ModelProto.verify|verify} messages.
         * @function encode
         * @memberof sentencepiece.ModelProto
         * @static
         * @param {sentencepiece.ModelProto.$Properties} message ModelProto message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        ModelProto.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.pieces != null && message.pieces.length)
                for (let i = 0; i < message.pieces.length; ++i)
                    $root.sentencepiece.ModelProto.SentencePiece.encode(message.pieces[i], writer.uint32(/* id 1, wireType 2 =*/10).fork(), _depth + 1).ldelim();
            if (message.trainerSpec != null && $Object.hasOwnProperty.call(message, "trainerSpec"))
                $root.sentencepiece.TrainerSpec.encode(message.trainerSpec, writer.uint32(/* id 2, wireType 2 =*/18).fork(), _depth + 1).ldelim();
            if (message.normalizerSpec != null && $Object.hasOwnProperty.call(message, "normalizerSpec"))
                $root.sentencepiece.NormalizerSpec.encode(message.normalizerSpec, writer.uint32(/* id 3, wireType 2 =*/26).fork(), _depth + 1).ldelim();
            if (message.selfTestData != null && $Object.hasOwnProperty.call(message, "selfTestData"))
                $root.sentencepiece.SelfTestData.encode(message.selfTestData, writer.uint32(/* id 4, wireType 2 =*/34).fork(), _depth + 1).ldelim();
            if (message.denormalizerSpec != null && $Object.hasOwnProperty.call(message, "denormalizerSpec"))
                $root.sentencepiece.NormalizerSpec.encode(message.denormalizerSpec, writer.uint32(/* id 5, wireType 2 =*/42).fork(), _depth + 1).ldelim();
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a ModelProto message from the specified reader or buffer.
         * @function decode
         * @memberof sentencepiece.ModelProto
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {sentencepiece.ModelProto & sentencepiece.ModelProto.$Shape} ModelProto
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        ModelProto.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.sentencepiece.ModelProto();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        if (!(message.pieces && message.pieces.length))
                            message.pieces = [];
                        message.pieces.push($root.sentencepiece.ModelProto.SentencePiece.decode(reader, reader.size(), $undefined, _depth + 1));
                        continue;
                    }
                case 2: {
                        if (wireType !== 2)
                            break;
                        message.trainerSpec = $root.sentencepiece.TrainerSpec.decode(reader, reader.size(), $undefined, _depth + 1, message.trainerSpec);
                        continue;
                    }
                case 3: {
                        if (wireType !== 2)
                            break;
                        message.normalizerSpec = $root.sentencepiece.NormalizerSpec.decode(reader, reader.size(), $undefined, _depth + 1, message.normalizerSpec);
                        continue;
                    }
                case 4: {
                        if (wireType !== 2)
                            break;
                        message.selfTestData = $root.sentencepiece.SelfTestData.decode(reader, reader.size(), $undefined, _depth + 1, message.selfTestData);
                        continue;
                    }
                case 5: {
                        if (wireType !== 2)
                            break;
                        message.denormalizerSpec = $root.sentencepiece.NormalizerSpec.decode(reader, reader.size(), $undefined, _depth + 1, message.denormalizerSpec);
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        ModelProto.SentencePiece = (function() {

            /**
             * Properties of a SentencePiece.
             * @typedef {Object} sentencepiece.ModelProto.SentencePiece.$Properties
             * @property {string|null} [piece] SentencePiece piece
             * @property {number|null} [score] SentencePiece score
             * @property {sentencepiece.ModelProto.SentencePiece.Type|null} [type] SentencePiece type
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a SentencePiece.
             * @memberof sentencepiece.ModelProto
             * @interface ISentencePiece
             * @augments sentencepiece.ModelProto.SentencePiece.$Properties
             * @deprecated Use sentencepiece.ModelProto.SentencePiece.$Properties instead.
             */

            /**
             * Shape of a SentencePiece.
             * @typedef {sentencepiece.ModelProto.SentencePiece.$Properties} sentencepiece.ModelProto.SentencePiece.$Shape
             */

            /**
             * Constructs a new SentencePiece.
             * @memberof sentencepiece.ModelProto
             * @classdesc Represents a SentencePiece.
             * @constructor
             * @param {sentencepiece.ModelProto.SentencePiece.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const SentencePiece = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * SentencePiece piece.
             * @member {string} piece
             * @memberof sentencepiece.ModelProto.SentencePiece
             * @instance
             */
            SentencePiece.prototype.piece = "";

            /**
             * SentencePiece score.
             * @member {number} score
             * @memberof sentencepiece.ModelProto.SentencePiece
             * @instance
             */
            SentencePiece.prototype.score = 0;

            /**
             * SentencePiece type.
             * @member {sentencepiece.ModelProto.SentencePiece.Type} type
             * @memberof sentencepiece.ModelProto.SentencePiece
             * @instance
             */
            SentencePiece.prototype.type = 1;

            /**
             * Creates a new SentencePiece instance using the specified properties.
             * @function create
             * @memberof sentencepiece.ModelProto.SentencePiece
             * @static
             * @param {sentencepiece.ModelProto.SentencePiece.$Properties=} [properties] Properties to set
             * @returns {sentencepiece.ModelProto.SentencePiece} SentencePiece instance
             * @type {{
             *   (properties: sentencepiece.ModelProto.SentencePiece.$Shape): sentencepiece.ModelProto.SentencePiece & sentencepiece.ModelProto.SentencePiece.$Shape;
             *   (properties?: sentencepiece.ModelProto.SentencePiece.$Properties): sentencepiece.ModelProto.SentencePiece;
             * }}
             */
            SentencePiece.create = function(properties) {
                return new SentencePiece(properties);
            };

            /**
             * Encodes the specified SentencePiece message. Does not implicitly {@link sentencepiece.ModelProto.SentencePiece.verify|verify} messages.
             * @function encode
             * @memberof sentencepiece.ModelProto.SentencePiece
             * @static
             * @param {sentencepiece.ModelProto.SentencePiece.$Properties} message SentencePiece message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SentencePiece.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.piece != null && $Object.hasOwnProperty.call(message, "piece"))
                    writer.uint32(/* id 1, wireType 2 =*/10).string(message.piece);
                if (message.score != null && $Object.hasOwnProperty.call(message, "score"))
                    writer.uint32(/* id 2, wireType 5 =*/21).float(message.score);
                if (message.type != null && $Object.hasOwnProperty.call(message, "type"))
                    writer.uint32(/* id 3, wireType 0 =*/24).int32(message.type);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a SentencePiece message from the specified reader or buffer.
             * @function decode
             * @memberof sentencepiece.ModelProto.SentencePiece
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {sentencepiece.ModelProto.SentencePiece & sentencepiece.ModelProto.SentencePiece.$Shape} SentencePiece
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SentencePiece.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.sentencepiece.ModelProto.SentencePiece();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            message.piece = reader.string();
                            continue;
                        }
                    case 2: {
                            if (wireType !== 5)
                                break;
                            message.score = reader.float();
                            continue;
                        }
                    case 3: {
                            if (wireType !== 0)
                                break;
                            value = reader.int32();
                            if ($root.sentencepiece.ModelProto.SentencePiece.Type[value] !== $undefined)
                                message.type = value;
                            else if (!reader.discardUnknown) {
                                $util.makeProp(message, "$unknowns", false);
                                (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                            }
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            /**
             * Type enum.
             * @name sentencepiece.ModelProto.SentencePiece.Type
             * @enum {number}
             * @property {number} NORMAL=1 NORMAL value
             * @property {number} UNKNOWN=2 UNKNOWN value
             * @property {number} CONTROL=3 CONTROL value
             * @property {number} USER_DEFINED=4 USER_DEFINED value
             * @property {number} BYTE=6 BYTE value
             * @property {number} UNUSED=5 UNUSED value
             */
            SentencePiece.Type = (function() {
                const valuesById = $Object.create(null), values = $Object.create(valuesById);
                values[valuesById[1] = "NORMAL"] = 1;
                values[valuesById[2] = "UNKNOWN"] = 2;
                values[valuesById[3] = "CONTROL"] = 3;
                values[valuesById[4] = "USER_DEFINED"] = 4;
                values[valuesById[6] = "BYTE"] = 6;
                values[valuesById[5] = "UNUSED"] = 5;
                return values;
            })();

            return SentencePiece;
        })();

        return ModelProto;
    })();

    return sentencepiece;
})();

export {
  $root as default
};
