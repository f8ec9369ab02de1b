extension ConvLSTM {
    /// ConvLSTM1D (`rank` 1) or ConvLSTM2D: the input convolution's settings, the LSTM cell's
    /// and the sequence loop's, all in one config. channels_first is refused: RNNKit's states
    /// and gates run channels last.
    init(keras config: KerasConfig, rank: Int) throws {
        let className = "ConvLSTM\(rank)D"
        try config.requireChannelsLast(className)
        windows = try config.windows(count: rank, size: "kernel_size", dilation: true)
        // tf_keras's ConvLSTM defaults to hard_sigmoid, Keras 3's to sigmoid.
        options = RecurrentOptions(
            units: try config.dimension("filters"),
            activation: try config.activation("activation", default: "tanh"),
            recurrentActivation: try config.activation("recurrent_activation",
                                                       default: config.kerasMajorVersion >= 3 ? "sigmoid" : "hard_sigmoid"),
            useBias: try config.bool("use_bias", default: true),
            returnSequences: try config.bool("return_sequences", default: false),
            returnState: try config.bool("return_state", default: false),
            goBackwards: try config.bool("go_backwards", default: false),
            stateful: try config.bool("stateful", default: false),
            unroll: try config.bool("unroll", default: false),
            zeroOutputForMask: try config.bool("zero_output_for_mask", default: false),
            dropout: try config.double("dropout", default: 0),
            recurrentDropout: try config.double("recurrent_dropout", default: 0))
        unitForgetBias = try config.bool("unit_forget_bias", default: true)
        if try config.bool("time_major", default: false) {
            throw config.error("time_major", "time_major=true is not supported (batch-major inputs only)")
        }
        if options.stateful {
            throw config.error("stateful", "\(className) with stateful=true is not supported (no stream carries image states)")
        }
        for (key, activation) in [("activation", options.activation), ("recurrent_activation", options.recurrentActivation)]
        where !activation.isElementwise {
            throw config.error(key, "\(activation.kerasName) is not an element-wise activation")
        }
    }

    func kerasConfig() -> JSONObject {
        var object = JSONObject([("filters", .int(filters))])
        for entry in windows.kerasConfig(size: "kernel_size", dilation: true).entries { object[entry.key] = entry.value }
        object["data_format"] = .string(DataFormat.channelsLast.rawValue)
        object["activation"] = .string(options.activation.kerasName)
        object["recurrent_activation"] = .string(options.recurrentActivation.kerasName)
        object["use_bias"] = .bool(options.useBias)
        object["unit_forget_bias"] = .bool(unitForgetBias)
        object["dropout"] = .double(options.dropout)
        object["recurrent_dropout"] = .double(options.recurrentDropout)
        object["return_sequences"] = .bool(options.returnSequences)
        object["return_state"] = .bool(options.returnState)
        object["go_backwards"] = .bool(options.goBackwards)
        object["stateful"] = .bool(options.stateful)
        object["unroll"] = .bool(options.unroll)
        if options.zeroOutputForMask { object["zero_output_for_mask"] = .bool(true) }
        return object
    }
}
